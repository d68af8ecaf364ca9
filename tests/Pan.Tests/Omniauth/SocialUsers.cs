using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Pan.Server.Credentials;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Omniauth;

public static class SocialUsers
{
    /// <summary>
    /// A new provider user; <paramref name="email"/> "" makes a unique address, null none. The name uses 8 of the id's 9
    /// digits (20 characters, the longest display name), so two users of one fixture practically never share it.
    /// </summary>
    public static SocialUser New(string? email = "", bool verified = true)
    {
        var id = Random.Shared.NextInt64(100_000_000, 999_999_999).ToString(CultureInfo.InvariantCulture);
        return new SocialUser(id, "Social User " + id[..8], email == string.Empty ? $"s{id}@example.com" : email, verified);
    }

    /// <summary>
    /// A new Microsoft user as Graph names it: a work or school account's id is its object id (a GUID); a personal
    /// account's is 16 hex digits.
    /// </summary>
    public static SocialUser NewMicrosoft(bool personal = false)
    {
        var id = personal ? Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)) : Guid.NewGuid().ToString("D");
        return new SocialUser(id, "Ms User " + id[..4], $"m{id.Replace("-", string.Empty, StringComparison.Ordinal)}@example.com");
    }

    /// <summary>
    /// A member with a verified email and a password, as phone sign-up and SetMemberPassword leave one: the member whose
    /// email a provider user may bind with that password.
    /// </summary>
    public static async Task<(Pan.Data.Members.Member Member, string Email, string Password)> MemberWithEmailAndPasswordAsync(PanServer server)
    {
        var email = $"owner{Guid.NewGuid():N}@example.com";
        var member = await TestMembers.CreateAsync(server, m =>
        {
            m.Email = email;
            m.EmailKey = email;
            m.EmailVerified = true;
        });
        const string password = "correct horse battery staple 42";
        await using var scope = server.Services.CreateAsyncScope();
        Assert.True(await scope.ServiceProvider.GetRequiredService<CredentialStore>().SetFirstPasswordAsync(member.Uid, password, default));
        return (member, email, password);
    }
}
