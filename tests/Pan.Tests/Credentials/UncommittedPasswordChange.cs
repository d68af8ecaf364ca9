using Microsoft.Extensions.DependencyInjection;
using Pan.Server.Credentials;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Credentials;

/// <summary>
/// A member's password change stopped just before its commit, so that a test can run another operation exactly then:
/// in one open transaction the member row is held, the new password written and the member's sessions other than
/// <c>keepSessionId</c> ended (with its token generation bumped), as UpdateCredential and an admin's
/// ChangeMemberPassword do; its locks (SQLite's write lock; PostgreSQL's row locks) are held until
/// <see cref="UncommittedChange.CommitAsync"/>. Disposing without committing rolls it back.
/// </summary>
public sealed class UncommittedPasswordChange : UncommittedChange
{
    private UncommittedPasswordChange(PanServer server, ITestDatabase database)
        : base(server, database)
    {
    }

    /// <param name="keepSessionId">The session the change is made from, which stays open; null ends every session (a reset).</param>
    public static async Task<UncommittedPasswordChange> StartAsync(PanServer server, ITestDatabase database, long uid, string password, long? keepSessionId)
    {
        var change = new UncommittedPasswordChange(server, database);
        await change.BeginAsync();
        await change.Scope.ServiceProvider.GetRequiredService<CredentialStore>().SetPasswordAsync(uid, password, keepSessionId, CancellationToken.None);
        return change;
    }
}
