using System.Globalization;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Omniauth;

public static class SocialUsers
{
    /// <summary>A new provider user; <paramref name="email"/> "" makes a unique address, null none.</summary>
    public static SocialUser New(string? email = "", bool verified = true)
    {
        var id = Random.Shared.NextInt64(100_000_000, 999_999_999).ToString(CultureInfo.InvariantCulture);
        return new SocialUser(id, "Social User " + id[..4], email == string.Empty ? $"s{id}@example.com" : email, verified);
    }
}
