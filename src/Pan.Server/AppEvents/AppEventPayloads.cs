using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pan.Server.AppEvents;

/// <summary>The event types Pan sends; an app ignores types it does not know.</summary>
public static class AppEventTypes
{
    public const string MemberDeleted = "member.deleted";

    /// <summary>An operator suspended the member (again, with a new end, when it already was).</summary>
    public const string MemberSuspended = "member.suspended";

    /// <summary>An operator lifted the member's suspension (a suspension lifting itself at its end sends nothing).</summary>
    public const string MemberRestored = "member.restored";

    /// <summary>An event's <c>occurred_at</c>: RFC 3339 in UTC with the clock's full precision, e.g. <c>2026-11-25T06:01:02.1234567Z</c>.</summary>
    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}

/// <summary>
/// An event's JSON body, as POSTed and as signed: <c>id</c>, <c>type</c>, <c>occurred_at</c> (RFC 3339, UTC) and the
/// type's <c>data</c>. Made once, when the event is queued, so every attempt sends the same bytes.
/// </summary>
public sealed record AppEventBody<TData>(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("occurred_at")] string OccurredAt,
    [property: JsonPropertyName("data")] TData Data)
{
    public string ToJson() => JsonSerializer.Serialize(this);
}

/// <summary>
/// <c>member.deleted</c>: the ids apps know the member by — <c>uid</c> (a string, as the JSON API writes 64-bit
/// numbers), <c>object_id</c> and <c>hash_uid</c> — and whether the member's whole account went with it. Nothing else:
/// no phone, email or name, which the deletion has just erased.
/// </summary>
public sealed record MemberDeletedData(
    [property: JsonPropertyName("uid")] string Uid,
    [property: JsonPropertyName("object_id")] string ObjectId,
    [property: JsonPropertyName("hash_uid")] string HashUid,
    [property: JsonPropertyName("account_deleted")] bool AccountDeleted);

/// <summary>
/// <c>member.restored</c> (and the ids of every member event): <c>uid</c> (a string, as the JSON API writes 64-bit
/// numbers), <c>object_id</c> and <c>hash_uid</c>.
/// </summary>
public sealed record MemberIdsData(
    [property: JsonPropertyName("uid")] string Uid,
    [property: JsonPropertyName("object_id")] string ObjectId,
    [property: JsonPropertyName("hash_uid")] string HashUid);

/// <summary>
/// <c>member.suspended</c>: the member's ids and when the suspension lifts by itself (RFC 3339, UTC), or null when it
/// lasts until restored. No reason and no operator: those stay in Pan's audit log.
/// </summary>
public sealed record MemberSuspendedData(
    [property: JsonPropertyName("uid")] string Uid,
    [property: JsonPropertyName("object_id")] string ObjectId,
    [property: JsonPropertyName("hash_uid")] string HashUid,
    [property: JsonPropertyName("suspended_until")] string? SuspendedUntil);
