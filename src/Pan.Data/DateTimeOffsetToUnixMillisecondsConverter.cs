using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Pan.Data;

/// <summary>Stores an instant as Unix milliseconds so that SQLite and PostgreSQL compare and index it the same way.</summary>
public sealed class DateTimeOffsetToUnixMillisecondsConverter()
    : ValueConverter<DateTimeOffset, long>(
        v => v.ToUnixTimeMilliseconds(),
        v => DateTimeOffset.FromUnixTimeMilliseconds(v));
