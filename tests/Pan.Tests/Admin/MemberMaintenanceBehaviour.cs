using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pan.General.Admin;
using Pan.Server.Credentials;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Admin;

/// <summary>ChangeMemberPassword, ChangeMemberEmail and RemoveMemberAvatar: roles, every seed error, the audit trail.</summary>
public abstract class MemberMaintenanceBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AdminFixture
{
    private AdminService.AdminServiceClient Client => new(fixture.Server.Grpc);

    [Fact]
    public async Task ChangeMemberEmail_ByAMemberAdmin_SetsAVerifiedEmailAndIsAudited()
    {
        var (admin, token) = await fixture.SignInNewAdminAsync("member-admin");
        var old = $"old{Guid.NewGuid():N}@example.com";
        var member = await TestMembers.CreateAsync(fixture.Server, m => (m.Email, m.EmailKey) = (old, old));
        var email = $"New.{Guid.NewGuid():N}@Example.com";

        await Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = member.Uid, Email = email });

        var stored = await TestMembers.WithDbAsync(fixture.Server, db => db.Members.SingleAsync(m => m.Uid == member.Uid));
        Assert.Equal(email, stored.Email);
        Assert.Equal(email.ToLowerInvariant(), stored.EmailKey);
        Assert.True(stored.EmailVerified);
        var audit = Assert.Single(await fixture.AuditAsync("admin.change-member-email", $"uid:{member.Uid}"));
        Assert.Equal((admin, "ok"), (audit.Actor, audit.Outcome));
        Assert.DoesNotContain(email, audit.Outcome + audit.Target, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ChangeMemberEmail_ToAnEmailAnotherMemberUses_IsEmailInUseInPan()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var email = $"taken{Guid.NewGuid():N}@example.com";
        await TestMembers.CreateAsync(fixture.Server, m => (m.Email, m.EmailKey, m.EmailVerified) = (email, email, true));
        var member = await TestMembers.CreateAsync(fixture.Server);

        await Errors.ExpectAsync(
            () => Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = member.Uid, Email = email.ToUpperInvariant() }).ResponseAsync,
            StatusCode.AlreadyExists, "ChangeMemberEmailResponse.Error.EmailInUseInPan");
        var audit = Assert.Single(await fixture.AuditAsync("admin.change-member-email", $"uid:{member.Uid}"));
        Assert.Equal("ChangeMemberEmailResponse.Error.EmailInUseInPan", audit.Outcome);
    }

    [Fact]
    public async Task ChangeMemberEmail_ParallelChangesToOneEmail_ExactlyOneWins()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var email = $"race{Guid.NewGuid():N}@example.com";
        var members = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => TestMembers.CreateAsync(fixture.Server)));

        var results = await Task.WhenAll(members.Select(async m =>
        {
            try
            {
                await Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = m.Uid, Email = email });
                return "ok";
            }
            catch (RpcException ex)
            {
                return ex.Info().Reason;
            }
        }));

        Assert.Single(results, r => r == "ok");
        Assert.All(results.Where(r => r != "ok"), r => Assert.Equal("ChangeMemberEmailResponse.Error.EmailInUseInPan", r));
        Assert.Equal(1, await TestMembers.WithDbAsync(fixture.Server, db => db.Members.CountAsync(m => m.EmailKey == email)));
    }

    [Fact]
    public async Task ChangeMemberEmail_WithABadEmailOrUid_IsInvalidArgumentNamingTheField()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);

        var email = await Errors.ExpectAsync(
            () => Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = member.Uid, Email = "not an email" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        var uid = await Errors.ExpectAsync(
            () => Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = 0, Email = "a@example.com" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");

        Assert.Equal("email", Assert.Single(email.BadRequest()!.FieldViolations).Field);
        Assert.Equal("uid", Assert.Single(uid.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task MemberCalls_ForAnUnknownOrDeletedMember_AreUserNotFound()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var deleted = await TestMembers.CreateAsync(fixture.Server);
        await TestMembers.UpdateAsync(fixture.Server, deleted.Uid, m => m.Deleted = fixture.Server.Clock.GetUtcNow());

        foreach (var uid in new[] { 987_654_321L, deleted.Uid })
        {
            await Errors.ExpectAsync(() => Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = uid, Email = "x@example.com" }).ResponseAsync,
                StatusCode.NotFound, "ChangeMemberEmailResponse.Error.UserNotFound");
            await Errors.ExpectAsync(() => Client.ChangeMemberPasswordAsync(new ChangeMemberPasswordRequest { AdminToken = token, Uid = uid, Password = "a long enough pass" }).ResponseAsync,
                StatusCode.NotFound, "ChangeMemberPasswordResponse.Error.UserNotFound");
            await Errors.ExpectAsync(() => Client.RemoveMemberAvatarAsync(new RemoveMemberAvatarRequest { AdminToken = token, Uid = uid }).ResponseAsync,
                StatusCode.NotFound, "RemoveMemberAvatarResponse.Error.UserNotFound");
        }
    }

    [Fact]
    public async Task MemberCalls_WithoutAValidAdminToken_AreUnauthenticatedNotAuthorizedAndAudited()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        // A member's own access token is no admin token.
        var memberToken = await TestMembers.AccessTokenAsync(fixture.Server, member);

        foreach (var token in new[] { "", "garbage", memberToken })
        {
            await Errors.ExpectAsync(() => Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = member.Uid, Email = "x@example.com" }).ResponseAsync,
                StatusCode.Unauthenticated, "ChangeMemberEmailResponse.Error.NotAuthorized");
            await Errors.ExpectAsync(() => Client.ChangeMemberPasswordAsync(new ChangeMemberPasswordRequest { AdminToken = token, Uid = member.Uid, Password = "a long enough pass" }).ResponseAsync,
                StatusCode.Unauthenticated, "ChangeMemberPasswordResponse.Error.NotAuthorized");
            await Errors.ExpectAsync(() => Client.RemoveMemberAvatarAsync(new RemoveMemberAvatarRequest { AdminToken = token, Uid = member.Uid }).ResponseAsync,
                StatusCode.Unauthenticated, "RemoveMemberAvatarResponse.Error.NotAuthorized");
        }

        var audit = await fixture.AuditAsync("admin.change-member-email", $"uid:{member.Uid}");
        Assert.Equal(3, audit.Count);
        Assert.All(audit, e => Assert.Equal(("unknown", "denied: no valid admin token"), (e.Actor, e.Outcome)));
    }

    [Fact]
    public async Task MemberCalls_ByAnAdminWithoutTheRole_ArePermissionDeniedAndChangeNothing()
    {
        var (support, supportToken) = await fixture.SignInNewAdminAsync("support");
        var (_, noRoleToken) = await fixture.SignInNewAdminAsync("");
        var member = await TestMembers.CreateAsync(fixture.Server, m => m.AvatarKey = "https://cdn.example.com/a.png");

        await Errors.ExpectAsync(() => Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = supportToken, Uid = member.Uid, Email = "x@example.com" }).ResponseAsync,
            StatusCode.PermissionDenied, "ChangeMemberEmailResponse.Error.NotAuthorized");
        await Errors.ExpectAsync(() => Client.ChangeMemberPasswordAsync(new ChangeMemberPasswordRequest { AdminToken = supportToken, Uid = member.Uid, Password = "a long enough pass" }).ResponseAsync,
            StatusCode.PermissionDenied, "ChangeMemberPasswordResponse.Error.NotAuthorized");
        await Errors.ExpectAsync(() => Client.RemoveMemberAvatarAsync(new RemoveMemberAvatarRequest { AdminToken = noRoleToken, Uid = member.Uid }).ResponseAsync,
            StatusCode.PermissionDenied, "RemoveMemberAvatarResponse.Error.NotAuthorized");

        var stored = await TestMembers.WithDbAsync(fixture.Server, db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == member.Uid));
        Assert.Null(stored.Email);
        Assert.Equal("https://cdn.example.com/a.png", stored.AvatarKey);
        var audit = Assert.Single(await fixture.AuditAsync("admin.change-member-email", $"uid:{member.Uid}"));
        Assert.Equal((support, "denied: needs role member-admin"), (audit.Actor, audit.Outcome));
    }

    [Theory]
    [InlineData("support")]
    [InlineData("member-admin")]
    public async Task RemoveMemberAvatar_BySupportOrMemberAdmin_ClearsTheAvatar(string role)
    {
        var (admin, token) = await fixture.SignInNewAdminAsync(role);
        var member = await TestMembers.CreateAsync(fixture.Server, m => m.AvatarKey = "https://cdn.example.com/bad.png");

        await Client.RemoveMemberAvatarAsync(new RemoveMemberAvatarRequest { AdminToken = token, Uid = member.Uid });
        await Client.RemoveMemberAvatarAsync(new RemoveMemberAvatarRequest { AdminToken = token, Uid = member.Uid });

        Assert.Null(await TestMembers.WithDbAsync(fixture.Server, db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.AvatarKey).SingleAsync()));
        var audit = await fixture.AuditAsync("admin.remove-member-avatar", $"uid:{member.Uid}");
        Assert.Equal(2, audit.Count);
        Assert.All(audit, e => Assert.Equal((admin, "ok"), (e.Actor, e.Outcome)));
    }

    [Theory]
    [InlineData("support")]
    [InlineData("member-admin")]
    public async Task RemoveMemberAvatar_OfAPictureTheMemberUploaded_ClearsItAndDeletesThePicture(string role)
    {
        var (_, token) = await fixture.SignInNewAdminAsync(role);
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member);
        var members = new Pan.General.Member.MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);
        var url = (await members.UpdateAvatarAsync(new Pan.General.Member.UpdateAvatarRequest { AccessToken = access, Avatar = Google.Protobuf.ByteString.CopyFrom(Png()) })).Avatar;

        await Client.RemoveMemberAvatarAsync(new RemoveMemberAvatarRequest { AdminToken = token, Uid = member.Uid });

        Assert.Equal(string.Empty, (await members.MeAsync(new Pan.General.Member.MeRequest { AccessToken = access })).User.Avatar);
        using var gone = await fixture.Server.Http.GetAsync(new Uri(url).AbsolutePath);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
    }

    /// <summary>
    /// The removal fails after the member's row was written (here the audit entry, the transaction's last write, is
    /// refused): the row keeps the avatar, so its picture must still be served, not a dead link on every profile.
    /// </summary>
    [Fact]
    public async Task RemoveMemberAvatar_WhenTheRemovalFailsBeforeItsCommit_KeepsThePictureItsMemberStillShows()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("support");
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member);
        var members = new Pan.General.Member.MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);
        var url = (await members.UpdateAvatarAsync(new Pan.General.Member.UpdateAvatarRequest { AccessToken = access, Avatar = Google.Protobuf.ByteString.CopyFrom(Png()) })).Avatar;

        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert,
            $"NEW.target = 'uid:{member.Uid}' AND NEW.outcome = 'ok'"))
        {
            Assert.Equal(StatusCode.Internal, await PhoneFlows.Phones.StatusOf(
                () => Client.RemoveMemberAvatarAsync(new RemoveMemberAvatarRequest { AdminToken = token, Uid = member.Uid }).ResponseAsync));
        }

        Assert.Equal(url, (await members.MeAsync(new Pan.General.Member.MeRequest { AccessToken = access })).User.Avatar);
        using (var picture = await fixture.Server.Http.GetAsync(new Uri(url).AbsolutePath))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, picture.StatusCode);
        }

        // The same call then removes it, files included.
        await Client.RemoveMemberAvatarAsync(new RemoveMemberAvatarRequest { AdminToken = token, Uid = member.Uid });
        using var gone = await fixture.Server.Http.GetAsync(new Uri(url).AbsolutePath);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
    }

    /// <summary>
    /// The audit line of a successful action is the last write of the action's transaction. When the database refuses
    /// it, the action must not commit (an action without its line), and the caller gets the RPC's own code for an
    /// internal failure, as when the action's own write is refused, not a bare INTERNAL.
    /// </summary>
    [Fact]
    public async Task MemberCalls_WhenTheirAuditLineIsRefused_ChangeNothingAndAnswerTheRpcsInternalCode()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var old = $"kept{Guid.NewGuid():N}@example.com";
        var member = await TestMembers.CreateAsync(fixture.Server, m => (m.Email, m.EmailKey, m.AvatarKey) = (old, old, "https://cdn.example.com/kept.png"));
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member);

        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert,
            $"NEW.target = 'uid:{member.Uid}' AND NEW.outcome = 'ok'"))
        {
            var email = await Errors.ExpectAsync(
                () => Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = member.Uid, Email = $"new{Guid.NewGuid():N}@example.com" }).ResponseAsync,
                StatusCode.Internal, "ChangeMemberEmailResponse.Error.InternalError");
            var password = await Errors.ExpectAsync(
                () => Client.ChangeMemberPasswordAsync(new ChangeMemberPasswordRequest { AdminToken = token, Uid = member.Uid, Password = "correct horse battery staple 46" }).ResponseAsync,
                StatusCode.Internal, "ChangeMemberPasswordResponse.Error.UpdatePasswordFailed");
            var avatar = await Errors.ExpectAsync(
                () => Client.RemoveMemberAvatarAsync(new RemoveMemberAvatarRequest { AdminToken = token, Uid = member.Uid }).ResponseAsync,
                StatusCode.Internal, "RemoveMemberAvatarResponse.Error.InternalError");
            Assert.Equal(("1007", "1005", "1005"), (email.Info().Metadata["code"], password.Info().Metadata["code"], avatar.Info().Metadata["code"]));
            Assert.DoesNotContain(FailureTriggers.Message, email.Status.Detail + password.Status.Detail + avatar.Status.Detail, StringComparison.Ordinal);
        }

        var stored = await TestMembers.WithDbAsync(fixture.Server, db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == member.Uid));
        Assert.Equal((old, "https://cdn.example.com/kept.png"), (stored.Email, stored.AvatarKey));
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            Assert.NotEqual(SecretCheck.Ok, await scope.ServiceProvider.GetRequiredService<CredentialStore>().CheckPasswordAsync(member.Uid, "correct horse battery staple 46", default));
            Assert.NotNull(await scope.ServiceProvider.GetRequiredService<Pan.Server.Tokens.TokenService>().ValidateAccessTokenAsync(access, default));
        }

        // Each attempt still leaves its one line, with the code the caller got.
        Assert.Equal(["ChangeMemberEmailResponse.Error.InternalError"], (await fixture.AuditAsync("admin.change-member-email", $"uid:{member.Uid}")).Select(e => e.Outcome));
        Assert.Equal(["ChangeMemberPasswordResponse.Error.UpdatePasswordFailed"], (await fixture.AuditAsync("admin.change-member-password", $"uid:{member.Uid}")).Select(e => e.Outcome));
        Assert.Equal(["RemoveMemberAvatarResponse.Error.InternalError"], (await fixture.AuditAsync("admin.remove-member-avatar", $"uid:{member.Uid}")).Select(e => e.Outcome));
    }

    /// <summary>No audit line can be written at all (neither the success line nor the failure line): still the RPC's code.</summary>
    [Fact]
    public async Task ChangeMemberEmail_WhenNoAuditLineCanBeWritten_ChangesNothingAndIsInternalError1007()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var old = $"kept{Guid.NewGuid():N}@example.com";
        var member = await TestMembers.CreateAsync(fixture.Server, m => (m.Email, m.EmailKey) = (old, old));

        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert, $"NEW.target = 'uid:{member.Uid}'"))
        {
            await Errors.ExpectAsync(
                () => Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = member.Uid, Email = $"new{Guid.NewGuid():N}@example.com" }).ResponseAsync,
                StatusCode.Internal, "ChangeMemberEmailResponse.Error.InternalError");
        }

        Assert.Equal(old, await TestMembers.WithDbAsync(fixture.Server, db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.Email).SingleAsync()));
        Assert.Empty(await fixture.AuditAsync("admin.change-member-email", $"uid:{member.Uid}"));
    }

    /// <summary>
    /// The caller gives up (cancels) while the action waits for the database. The action and its audit line are one
    /// transaction, so either both commit or neither: never a change without its line. Here the cancellation reaches
    /// the action before its commit (PostgreSQL cancels the waiting statement), so neither commits.
    /// </summary>
    [Fact]
    public async Task ChangeMemberEmail_CancelledBeforeItCommits_CommitsNeitherTheChangeNorAnAuditLine()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var old = $"kept{Guid.NewGuid():N}@example.com";
        var member = await TestMembers.CreateAsync(fixture.Server, m => (m.Email, m.EmailKey) = (old, old));
        var email = $"new{Guid.NewGuid():N}@example.com";

        await using (var hold = await DatabaseLock.HoldAsync(fixture.Database, "members"))
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
            var call = Client.ChangeMemberEmailAsync(
                new ChangeMemberEmailRequest { AdminToken = token, Uid = member.Uid, Email = email }, cancellationToken: cancel.Token).ResponseAsync;
            Assert.Equal(StatusCode.Cancelled, await PhoneFlows.Phones.StatusOf(() => call));
            // Give the server time to see the cancellation while the action still waits.
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        // Let the server finish whatever it still does with the call (on SQLite it waits for the lock without seeing the cancellation).
        await Task.Delay(TimeSpan.FromSeconds(2));
        var stored = await TestMembers.WithDbAsync(fixture.Server, db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.Email).SingleAsync());
        var audit = (await fixture.AuditAsync("admin.change-member-email", $"uid:{member.Uid}")).Where(e => e.Outcome == "ok").ToList();
        Assert.Equal(stored == email ? 1 : 0, audit.Count);
        if (fixture.Database.Provider == "postgres")
        {
            Assert.Equal((old, 0), (stored, audit.Count));
        }
    }

    /// <summary>
    /// The caller gives up after the removal committed, while the stored picture is being deleted (held here by a lock
    /// on the picture store's table). The member no longer shows the picture, so it must not stay served at its URL.
    /// </summary>
    [Fact]
    public async Task RemoveMemberAvatar_CancelledAfterItCommitted_StillDeletesThePicture()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("support");
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member);
        var members = new Pan.General.Member.MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);
        var url = (await members.UpdateAvatarAsync(new Pan.General.Member.UpdateAvatarRequest { AccessToken = access, Avatar = Google.Protobuf.ByteString.CopyFrom(Png()) })).Avatar;

        // Why KEY SHARE on PostgreSQL: the removal marks the files pending in its transaction (an update, let through)
        // and deletes them after its commit (a delete, held).
        await using (await DatabaseLock.HoldRowsAsync(fixture.Database, "avatar_files", "true", "KEY SHARE"))
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
            var call = Client.RemoveMemberAvatarAsync(new RemoveMemberAvatarRequest { AdminToken = token, Uid = member.Uid }, cancellationToken: cancel.Token).ResponseAsync;
            Assert.Equal(StatusCode.Cancelled, await PhoneFlows.Phones.StatusOf(() => call));
            // Give the server time to see the cancellation while the deletion still waits.
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        // Whatever the call answered, the member's avatar and its picture go together.
        string? shown = null;
        var served = System.Net.HttpStatusCode.OK;
        await Eventually.HoldsAsync(async () =>
        {
            shown = (await members.MeAsync(new Pan.General.Member.MeRequest { AccessToken = access })).User.Avatar;
            using var picture = await fixture.Server.Http.GetAsync(new Uri(url).AbsolutePath);
            served = picture.StatusCode;
            return (shown == url) == (served == System.Net.HttpStatusCode.OK);
        });
        if (fixture.Database.Provider == "postgres")
        {
            // There the removal commits before the picture store's lock is met.
            Assert.Equal((string.Empty, System.Net.HttpStatusCode.NotFound), (shown, served));
        }
    }

    private static byte[] Png()
    {
        using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(120, 120, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Premul));
        using (var canvas = new SkiaSharp.SKCanvas(bitmap))
        {
            canvas.Clear(new SkiaSharp.SKColor(0, 128, (byte)Random.Shared.Next(256)));
        }

        using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 90);
        return data.ToArray();
    }

    [Fact]
    public async Task ChangeMemberPassword_WithUnreadableText_IsParsePasswordFailed()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);

        var ex = await Errors.ExpectAsync(
            () => Client.ChangeMemberPasswordAsync(new ChangeMemberPasswordRequest { AdminToken = token, Uid = member.Uid, Password = "pass\u0000word\u0007long" }).ResponseAsync,
            StatusCode.InvalidArgument, "ChangeMemberPasswordResponse.Error.ParsePasswordFailed");
        Assert.Equal("password", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task ChangeMemberPassword_Empty_IsPasswordFormatIncorrect()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);

        await Errors.ExpectAsync(() => Client.ChangeMemberPasswordAsync(new ChangeMemberPasswordRequest { AdminToken = token, Uid = member.Uid, Password = "" }).ResponseAsync,
            StatusCode.InvalidArgument, "ChangeMemberPasswordResponse.Error.PasswordFormatIncorrect");
    }

    /// <summary>Needs the credentials feature (PasswordPolicy).</summary>
    [Fact]
    public async Task ChangeMemberPassword_BreakingThePolicy_IsPasswordFormatIncorrect()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);

        var ex = await Errors.ExpectAsync(
            () => Client.ChangeMemberPasswordAsync(new ChangeMemberPasswordRequest { AdminToken = token, Uid = member.Uid, Password = "short" }).ResponseAsync,
            StatusCode.InvalidArgument, "ChangeMemberPasswordResponse.Error.PasswordFormatIncorrect");
        Assert.Equal("password", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    /// <summary>Needs the credentials feature (PasswordPolicy, CredentialStore).</summary>
    [Fact]
    public async Task ChangeMemberPassword_ByAMemberAdmin_SetsThePasswordAndEndsTheMembersSessions()
    {
        var (admin, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        var accessToken = await TestMembers.AccessTokenAsync(fixture.Server, member);
        const string password = "correct horse battery staple 42";

        await Client.ChangeMemberPasswordAsync(new ChangeMemberPasswordRequest { AdminToken = token, Uid = member.Uid, Password = password });

        await using var scope = fixture.Server.Services.CreateAsyncScope();
        Assert.Equal(SecretCheck.Ok, await scope.ServiceProvider.GetRequiredService<CredentialStore>().CheckPasswordAsync(member.Uid, password, default));
        Assert.Null(await scope.ServiceProvider.GetRequiredService<Pan.Server.Tokens.TokenService>().ValidateAccessTokenAsync(accessToken, default));
        var audit = Assert.Single(await fixture.AuditAsync("admin.change-member-password", $"uid:{member.Uid}"));
        Assert.Equal((admin, "ok"), (audit.Actor, audit.Outcome));
        Assert.DoesNotContain(password, audit.Outcome + audit.Target, StringComparison.Ordinal);
    }

    /// <summary>
    /// The Argon2id hash of the new password (tens of milliseconds) is made before the action's transaction opens: on
    /// SQLite a transaction holds the database's one write lock, so a hash inside it stalled every other writer for its
    /// whole length. Here the hash is held at its start (a gate in the hasher's parameters) while another writer asks for
    /// what it needs: SQLite's write lock; on PostgreSQL an ACCESS EXCLUSIVE lock on members, which waits for every open
    /// transaction that has read a member. It must get it at once, and the change then completes.
    /// </summary>
    [Fact]
    public async Task ChangeMemberPassword_WhileThePasswordIsHashed_HoldsNoTransaction_SoOtherWritersGoOn()
    {
        using var gate = new HashGate();
        await using var node = await StartGatedNodeAsync(gate);
        var (admin, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        var accessToken = await TestMembers.AccessTokenAsync(fixture.Server, member);
        const string password = "correct horse battery staple 47";

        bool otherWriterWentOn;
        Task call;
        gate.Arm();
        try
        {
            call = new AdminService.AdminServiceClient(node.Grpc).ChangeMemberPasswordAsync(
                new ChangeMemberPasswordRequest { AdminToken = token, Uid = member.Uid, Password = password }).ResponseAsync;
            await gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
            // Why Task.Run: SQLite waits for its write lock on the calling thread, which must not be this test's.
            var other = Task.Run(() => DatabaseLock.HoldAsync(fixture.Database, "members", "ACCESS EXCLUSIVE"));
            otherWriterWentOn = await Task.WhenAny(other, Task.Delay(TimeSpan.FromSeconds(3))) == other;
            if (!otherWriterWentOn)
            {
                // Let the hash finish, so the action's transaction ends and the other writer gets through.
                gate.Release();
            }

            await (await other).DisposeAsync();
        }
        finally
        {
            gate.Release();
        }

        await call;
        Assert.True(otherWriterWentOn, "another writer waited for the admin's transaction while the password was hashed");
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        Assert.Equal(SecretCheck.Ok, await scope.ServiceProvider.GetRequiredService<CredentialStore>().CheckPasswordAsync(member.Uid, password, default));
        Assert.Null(await scope.ServiceProvider.GetRequiredService<Pan.Server.Tokens.TokenService>().ValidateAccessTokenAsync(accessToken, default));
        var audit = Assert.Single(await fixture.AuditAsync("admin.change-member-password", $"uid:{member.Uid}"));
        Assert.Equal((admin, "ok"), (audit.Actor, audit.Outcome));
    }

    /// <summary>
    /// The member is deleted while its new password is hashed (before the action's transaction): the transaction finds
    /// no live member, so the answer is UserNotFound and no hash is left for the deleted member.
    /// </summary>
    [Fact]
    public async Task ChangeMemberPassword_OfAMemberDeletedWhileThePasswordIsHashed_IsUserNotFoundAndWritesNothing()
    {
        using var gate = new HashGate();
        await using var node = await StartGatedNodeAsync(gate);
        var (admin, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);

        Task call;
        gate.Arm();
        try
        {
            call = new AdminService.AdminServiceClient(node.Grpc).ChangeMemberPasswordAsync(
                new ChangeMemberPasswordRequest { AdminToken = token, Uid = member.Uid, Password = "correct horse battery staple 48" }).ResponseAsync;
            await gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
            await TestMembers.UpdateAsync(fixture.Server, member.Uid, m => m.Deleted = fixture.Server.Clock.GetUtcNow());
        }
        finally
        {
            gate.Release();
        }

        await Errors.ExpectAsync(() => call, StatusCode.NotFound, "ChangeMemberPasswordResponse.Error.UserNotFound");
        Assert.Null(await TestMembers.WithDbAsync(fixture.Server, db =>
            db.Set<Pan.Data.Credentials.MemberCredential>().AsNoTracking().Where(c => c.Uid == member.Uid).Select(c => c.PasswordHash).FirstOrDefaultAsync()));
        var audit = Assert.Single(await fixture.AuditAsync("admin.change-member-password", $"uid:{member.Uid}"));
        Assert.Equal((admin, "ChangeMemberPasswordResponse.Error.UserNotFound"), (audit.Actor, audit.Outcome));
    }

    /// <summary>Another node on the fixture's database whose password hashes wait at <paramref name="gate"/>.</summary>
    private Task<PanServer> StartGatedNodeAsync(HashGate gate) =>
        PanServer.StartAsync(fixture.Database, fixture.Settings(), fixture.Server.Clock, builder =>
            builder.Services.AddSingleton(services => new PasswordHasher(
                gate.Over(services.GetRequiredService<IOptionsMonitor<Argon2Options>>()), services.GetRequiredService<ILogger<PasswordHasher>>())));

    /// <summary>
    /// Support's answer to a member locked out by wrong guesses is a new password: the member must be able to sign in
    /// with it at once, as after a reset, not be told "wrong password" until the lock runs out (and relocked by one typo).
    /// </summary>
    [Fact]
    public async Task ChangeMemberPassword_OfALockedMember_ReleasesTheLock_SoTheNewPasswordSignsIn()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var failures = scope.ServiceProvider.GetRequiredService<Pan.Server.BruteForce.FailureCounter>();
            for (var i = 0; i < 20; i++)
            {
                await failures.RecordFailureAsync(member.Uid, default);
            }

            Assert.True((await failures.StateAsync(member.Uid, default)).Locked);
        }

        const string password = "correct horse battery staple 43";
        await Client.ChangeMemberPasswordAsync(new ChangeMemberPasswordRequest { AdminToken = token, Uid = member.Uid, Password = password });

        await using var check = fixture.Server.Services.CreateAsyncScope();
        Assert.Equal(SecretCheck.Ok, await check.ServiceProvider.GetRequiredService<CredentialStore>().CheckPasswordAsync(member.Uid, password, default));
        Assert.Equal(0, await check.ServiceProvider.GetRequiredService<Pan.Server.BruteForce.FailureCounter>().FailuresAsync(member.Uid, default));
    }

    /// <summary>A reset token fetched before support set the password (by whoever had the mailbox) must not undo it.</summary>
    [Fact]
    public async Task ChangeMemberPassword_EndsTheMembersUnspentAuthResetTokens()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        string resetToken;
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            resetToken = await scope.ServiceProvider.GetRequiredService<Pan.Server.Recovery.ResetGrants>()
                .IssueAsync(member.Uid, Pan.Server.Recovery.ResetChannels.Email, default);
        }

        const string password = "correct horse battery staple 44";
        await Client.ChangeMemberPasswordAsync(new ChangeMemberPasswordRequest { AdminToken = token, Uid = member.Uid, Password = password });

        const string other = "another horse battery staple 45";
        await Errors.ExpectAsync(
            () => new Pan.General.Member.MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc).AuthResetUpdateAsync(
                new Pan.General.Member.AuthResetUpdateRequest { AuthResetToken = resetToken, Password = other, ConfirmPassword = other }).ResponseAsync,
            StatusCode.Unauthenticated, "AuthResetUpdateResponse.ErrFailed");
        await using var check = fixture.Server.Services.CreateAsyncScope();
        Assert.Equal(SecretCheck.Ok, await check.ServiceProvider.GetRequiredService<CredentialStore>().CheckPasswordAsync(member.Uid, password, default));
    }

    [Fact]
    public async Task ChangeMemberEmail_EndsTheResetProofsThatCameThroughTheOldAddress()
    {
        // Support moves a member's email (say the old mailbox was lost to someone else): what a reset mailed there
        // before (an auth_reset_token already fetched with its code, an unused code and link) must not set the password
        // afterwards, not even once the old address is back. A reset proof that came through the phone is not affected.
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var address = $"old-{Guid.NewGuid():N}@pan.test";
        var member = await TestMembers.CreateAsync(fixture.Server, m =>
        {
            m.Email = address;
            m.EmailKey = Pan.Server.Email.EmailAddresses.Key(address);
            m.EmailVerified = true;
        });
        string byEmail, byPhone, code;
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var grants = scope.ServiceProvider.GetRequiredService<Pan.Server.Recovery.ResetGrants>();
            byEmail = await grants.IssueAsync(member.Uid, Pan.Server.Recovery.ResetChannels.Email, default);
            byPhone = await grants.IssueAsync(member.Uid, Pan.Server.Recovery.ResetChannels.Phone, default);
            code = (await scope.ServiceProvider.GetRequiredService<Pan.Server.Email.EmailCodes>()
                .IssueAsync(member.Uid, Pan.Server.Email.EmailPurposes.Reset, Pan.Server.Email.EmailAddresses.Key(address), null, default)).Code;
        }

        await Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = member.Uid, Email = $"new-{Guid.NewGuid():N}@pan.test" });
        await Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = member.Uid, Email = address });

        var members = new Pan.General.Member.MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);
        const string password = "correct horse battery staple 46";
        await Errors.ExpectAsync(
            () => members.AuthResetUpdateAsync(new Pan.General.Member.AuthResetUpdateRequest { AuthResetToken = byEmail, Password = password, ConfirmPassword = password }).ResponseAsync,
            StatusCode.Unauthenticated, "AuthResetUpdateResponse.ErrFailed");
        await Errors.ExpectAsync(
            () => members.AuthResetVerifyEmailCodeAsync(new Pan.General.Member.AuthResetVerifyEmailCodeRequest { Code = code }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyEmailCodeResponse.ErrCodeInvalid");
        await members.AuthResetUpdateAsync(new Pan.General.Member.AuthResetUpdateRequest { AuthResetToken = byPhone, Password = password, ConfirmPassword = password });
        await using var check = fixture.Server.Services.CreateAsyncScope();
        Assert.Equal(SecretCheck.Ok, await check.ServiceProvider.GetRequiredService<CredentialStore>().CheckPasswordAsync(member.Uid, password, default));
    }

    // The seed's "failed" codes are what a concurrent writer causes: the row the call read is gone or changed when it
    // writes. A trigger on the real database makes that happen on cue: "skip" drops the UPDATE of the member's row (0 rows
    // written, exactly what EF Core sees when another writer changed the version or deleted the row), "fail" makes the
    // database refuse the statement with an error that is neither a constraint nor an outage.

    [Fact]
    public async Task ChangeMemberPassword_WhenTheCredentialsRowChangesMeanwhile_IsAbortedUpdatePasswordFailed()
    {
        var (admin, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        await using (await FailureTriggers.SkipAsync(fixture.Server, fixture.Database, "member_credentials", TriggeredWrite.Update, member.Uid))
        {
            await Errors.ExpectAsync(
                () => Client.ChangeMemberPasswordAsync(new ChangeMemberPasswordRequest { AdminToken = token, Uid = member.Uid, Password = "correct horse battery staple 42" }).ResponseAsync,
                StatusCode.Aborted, "ChangeMemberPasswordResponse.Error.UpdatePasswordFailed");
        }

        var audit = Assert.Single(await fixture.AuditAsync("admin.change-member-password", $"uid:{member.Uid}"));
        Assert.Equal((admin, "ChangeMemberPasswordResponse.Error.UpdatePasswordFailed"), (audit.Actor, audit.Outcome));
    }

    [Fact]
    public async Task ChangeMemberEmail_WhenTheMemberChangesMeanwhile_IsAbortedUpdateEmailFailedAndKeepsTheOldEmail()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var old = $"keep{Guid.NewGuid():N}@example.com";
        var member = await TestMembers.CreateAsync(fixture.Server, m => (m.Email, m.EmailKey) = (old, old));
        await using (await FailureTriggers.SkipAsync(fixture.Server, fixture.Database, "members", TriggeredWrite.Update, member.Uid))
        {
            await Errors.ExpectAsync(
                () => Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = member.Uid, Email = $"new{Guid.NewGuid():N}@example.com" }).ResponseAsync,
                StatusCode.Aborted, "ChangeMemberEmailResponse.Error.UpdateEmailFailed");
        }

        Assert.Equal(old, await TestMembers.WithDbAsync(fixture.Server, db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.Email).SingleAsync()));
        var audit = Assert.Single(await fixture.AuditAsync("admin.change-member-email", $"uid:{member.Uid}"));
        Assert.Equal("ChangeMemberEmailResponse.Error.UpdateEmailFailed", audit.Outcome);
    }

    [Fact]
    public async Task ChangeMemberEmail_WhenTheDatabaseRefusesTheWrite_IsInternalError1007()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "members", TriggeredWrite.Update, member.Uid))
        {
            var error = await Errors.ExpectAsync(
                () => Client.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = token, Uid = member.Uid, Email = $"new{Guid.NewGuid():N}@example.com" }).ResponseAsync,
                StatusCode.Internal, "ChangeMemberEmailResponse.Error.InternalError");
            Assert.Equal("1007", error.Info().Metadata["code"]);
        }
    }

    [Fact]
    public async Task RemoveMemberAvatar_WhenTheMemberChangesMeanwhile_IsAbortedRemoveAvatarFailedAndKeepsTheAvatar()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("support");
        var member = await TestMembers.CreateAsync(fixture.Server, m => m.AvatarKey = "https://cdn.example.com/keep.png");
        await using (await FailureTriggers.SkipAsync(fixture.Server, fixture.Database, "members", TriggeredWrite.Update, member.Uid))
        {
            await Errors.ExpectAsync(
                () => Client.RemoveMemberAvatarAsync(new RemoveMemberAvatarRequest { AdminToken = token, Uid = member.Uid }).ResponseAsync,
                StatusCode.Aborted, "RemoveMemberAvatarResponse.Error.RemoveAvatarFailed");
        }

        Assert.Equal("https://cdn.example.com/keep.png",
            await TestMembers.WithDbAsync(fixture.Server, db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.AvatarKey).SingleAsync()));
    }

    [Fact]
    public async Task RemoveMemberAvatar_WhenTheDatabaseRefusesTheWrite_IsInternalError1005()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("support");
        var member = await TestMembers.CreateAsync(fixture.Server, m => m.AvatarKey = "https://cdn.example.com/x.png");
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "members", TriggeredWrite.Update, member.Uid))
        {
            var error = await Errors.ExpectAsync(
                () => Client.RemoveMemberAvatarAsync(new RemoveMemberAvatarRequest { AdminToken = token, Uid = member.Uid }).ResponseAsync,
                StatusCode.Internal, "RemoveMemberAvatarResponse.Error.InternalError");
            Assert.Equal("1005", error.Info().Metadata["code"]);
        }
    }
}

/// <summary>
/// Holds the next password hash of a server at its start: the hasher reads its parameters just before it hashes, and
/// once armed the first read waits (up to a minute) for <see cref="Release"/>, after signalling <see cref="Reached"/>.
/// </summary>
internal sealed class HashGate : IDisposable
{
    private readonly TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim released = new();
    private int armed;

    public Task Reached => reached.Task;

    public void Arm() => Volatile.Write(ref armed, 1);

    public void Release() => released.Set();

    public IOptionsMonitor<Argon2Options> Over(IOptionsMonitor<Argon2Options> inner) => new Monitor(this, inner);

    public void Dispose() => released.Dispose();

    private void Pass()
    {
        if (Interlocked.Exchange(ref armed, 0) == 1)
        {
            reached.TrySetResult();
            released.Wait(TimeSpan.FromMinutes(1));
        }
    }

    private sealed class Monitor(HashGate gate, IOptionsMonitor<Argon2Options> inner) : IOptionsMonitor<Argon2Options>
    {
        public Argon2Options CurrentValue
        {
            get
            {
                gate.Pass();
                return inner.CurrentValue;
            }
        }

        public Argon2Options Get(string? name) => inner.Get(name);

        public IDisposable? OnChange(Action<Argon2Options, string?> listener) => inner.OnChange(listener);
    }
}

public sealed class MemberMaintenanceBehaviour_Sqlite(SqliteAdminFixture f) : MemberMaintenanceBehaviour<SqliteAdminFixture>(f);

public sealed class MemberMaintenanceBehaviour_Postgres(PostgresAdminFixture f) : MemberMaintenanceBehaviour<PostgresAdminFixture>(f);
