using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Passport;
using Pan.General.Member;
using Pan.Server.Passport;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Passport;

/// <summary>SECURITY 12 for the passes: a pass is never issued for a session that has ended, also when the two race.</summary>
public abstract partial class PassportBehaviour<TFixture>
{
    [Theory]
    [InlineData(PassKinds.Passport)]
    [InlineData(PassKinds.Qr)]
    public async Task APassFetched_WhileLogoutCommits_IsNeverLeftLive(string kind)
    {
        var member = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, member);
        var access = await TestMembers.AccessTokenAsync(Server, auth, member);
        Task<Func<Task>> fetching;
        Task logout;
        bool waited;
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            // An uncommitted pass row of the member and kind: the server's write of the pass waits for it, after the
            // access token was found live (PostgreSQL; on SQLite this transaction holds the write lock, so the fetch and
            // the logout wait for it and then run in either order).
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            await using var blocker = await db.Database.BeginTransactionAsync();
            var now = Server.Clock.GetUtcNow();
            db.Add(new MemberPass { Uid = member.Uid, Kind = kind, Hash = RandomNumberGenerator.GetBytes(32), Created = now, Expires = now.AddMinutes(1) });
            await db.SaveChangesAsync();

            fetching = Task.Run(() => FetchPassAsync(access, kind));
            await LockWaits.UntilAsync(fixture.Database, 1, fetching);
            logout = Task.Run(() => Client.LogoutAsync(new LogoutRequest { PanAccessToken = access, Token2 = auth }).ResponseAsync);
            waited = await LockWaits.UntilAsync(fixture.Database, 2, logout);
            await blocker.RollbackAsync();
        }

        await logout;
        Func<Task>? validate = null;
        try
        {
            validate = await fetching;
        }
        catch (RpcException refused) when (refused.StatusCode == StatusCode.Unauthenticated)
        {
            // The fetch found the session ended: nothing was issued.
        }

        if (validate is not null)
        {
            var dead = await Assert.ThrowsAsync<RpcException>(validate);
            Assert.Equal(StatusCode.NotFound, dead.StatusCode);
        }

        // On PostgreSQL the logout waited for the fetch that had found its session live, and then ended its pass.
        Assert.True(waited || fixture.Database.Provider != "postgres");
    }

    [Theory]
    [InlineData(PassKinds.Passport)]
    [InlineData(PassKinds.Qr)]
    public async Task APassFetched_WhileTheMembersDeletionIsUncommitted_IsRefused_AndLeavesNoRow(string kind)
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        Task<Func<Task>> fetching;
        bool waited;
        await using (var deletion = await Deletion.UncommittedDeletion.StartAsync(Server, fixture.Database, member.Uid))
        {
            fetching = Task.Run(() => FetchPassAsync(access, kind));
            waited = await deletion.WaitUntilBlockingAsync(fetching);
            await deletion.CommitAsync();
        }

        var refused = await Assert.ThrowsAsync<RpcException>(() => fetching);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.False(await TestMembers.WithDbAsync(Server, db => Task.FromResult(db.Set<MemberPass>().Any(p => p.Uid == member.Uid))));
        Assert.True(waited || fixture.Database.Provider != "postgres");
    }

    /// <summary>Fetches a pass of <paramref name="kind"/>; returns the scan that checks it (throws when it is not live).</summary>
    private async Task<Func<Task>> FetchPassAsync(string accessToken, string kind)
    {
        if (kind == PassKinds.Passport)
        {
            var card = await Client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = accessToken });
            return () => Scanner.ValidatePassportTokenAsync(new ValidatePassportTokenRequest { PassportToken = card.PassportToken }, ScannerApp()).ResponseAsync;
        }

        var qr = await Client.GetQRCodeAsync(new GetQRCodeRequest { PanAccessToken = accessToken });
        return () => Client.ValidateQRCodeAsync(new ValidateQRCodeRequest { Uuid = qr.Uuid, Uid = qr.Uid, VerifyCode = qr.VerifyCode }).ResponseAsync;
    }
}
