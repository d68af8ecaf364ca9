using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using Pan.Tests.PhoneFlows;
using PhoneFlow = Pan.Tests.PhoneFlows.Phones;

namespace Pan.Tests.Tokens;

/// <summary>ListSessions, EndSession and EndOtherSessions (README "Signed-in devices"), over gRPC and HTTP/JSON.</summary>
public abstract class SignedInDevicesBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : PhoneFlowFixture
{
    private const string NotFound = "EndSessionResponse.Error.SessionNotFound";

    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    private PhoneFlow Phones => new(Client, fixture.Inbox);

    [Fact]
    public async Task ListSessions_ShowsEachSignInsDevice_NewestFirst_WithItsAppsAndTheCurrentOne()
    {
        using var first = Device("PanTest/1.0 (first phone)");
        using var second = Device("PanTest/2.0 (second\tphone)");
        var name = PhoneFlow.NewName();
        var (auth, e164) = await new PhoneFlow(first.Client, fixture.Inbox).RegisterAsync(name);
        var access = await Phones.AccessTokenAsync(auth);
        var uid = (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info.Uid;
        await Client.AccessTokenAsync(new AccessTokenRequest { AuthToken = auth, AppId = "shop24h" });
        var secondAuth = await new PhoneFlow(second.Client, fixture.Inbox).LoginAsync(e164);
        var inProcess = await InProcessAuthTokenAsync(uid, AuthMethods.Password);

        var sessions = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = access })).Sessions;

        Assert.Equal(3, sessions.Count);
        var (cli, phone2, phone1) = (sessions[0], sessions[1], sessions[2]);
        Assert.Equal(("", ""), (cli.ClientIp, cli.UserAgent));
        Assert.Equal(AuthMethods.Password, cli.AuthMethod);
        Assert.Equal(("127.0.0.1", "PanTest/2.0 (second phone)", AuthMethods.Phone), (phone2.ClientIp, phone2.UserAgent, phone2.AuthMethod));
        Assert.Equal(("127.0.0.1", "PanTest/1.0 (first phone)", AuthMethods.Phone), (phone1.ClientIp, phone1.UserAgent, phone1.AuthMethod));
        Assert.Equal(new[] { false, false, true }, sessions.Select(s => s.Current));
        Assert.Equal(new[] { "jkforum", "shop24h" }, phone1.AppIds);
        Assert.Empty(phone2.AppIds);
        Assert.All(sessions, s => Assert.Equal((uid, name), (s.Uid, s.DisplayName)));
        Assert.All(sessions, s => Assert.Equal(22, s.SessionId.Length));
        Assert.Equal(3, sessions.Select(s => s.SessionId).Distinct().Count());
        var stored = await TestMembers.WithDbAsync(Server, db => db.Set<AuthSession>().Where(s => s.Uid == uid).OrderBy(s => s.Id).ToListAsync());
        Assert.Equal(stored[0].Created, phone1.Created.ToDateTimeOffset());
        Assert.Equal(stored[0].Expires, phone1.Expires.ToDateTimeOffset());
        Assert.NotEqual(phone1.SessionId, stored[0].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.NotEmpty(secondAuth + inProcess);
    }

    [Fact]
    public async Task SessionId_IsNotDerivableFromTheHashidsSaltAndTheDatabaseId()
    {
        // Why: the Hashids salt is no secret in many deployments; an id derived from it and the sequential database id
        // (as the first session ids were: HMAC-SHA256 under a key from the salt) maps back to the id, and so counts the
        // service's sign-ins. Each session's id is random bits of its own instead.
        var (auth, _) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        var hash = OpaqueTokens.Hash(access);
        var databaseId = await TestMembers.WithDbAsync(Server, db =>
            db.Set<StoredAccessToken>().Where(t => t.Hash == hash).Select(t => t.SessionId).SingleAsync());
        var salt = Server.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Pan.Server.Members.HashidsOptions>>().Value.Salt;
        var key = System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(salt), "pan/session-id/v1"u8);
        var mac = System.Security.Cryptography.HMACSHA256.HashData(
            key, System.Text.Encoding.ASCII.GetBytes(databaseId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var derived = System.Buffers.Text.Base64Url.EncodeToString(mac.AsSpan(0, 16));

        var listed = Assert.Single((await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = access })).Sessions).SessionId;

        Assert.Equal(22, listed.Length);
        Assert.NotEqual(derived, listed);
    }

    [Fact]
    public async Task ListSessions_ShowsTheClientAddress_AsPanResolvesIt_BehindATrustedProxyOnly()
    {
        var trusting = new Dictionary<string, string?>(fixture.NodeSettings) { ["Pan:Network:TrustedProxies:0"] = "127.0.0.1" };
        await using var behindProxy = await fixture.StartNodeAsync(trusting);
        using var proxied = new UserAgentChannel(behindProxy.GrpcUri, "PanTest/4.0", forwardedFor: "203.0.113.7");
        using var direct = new UserAgentChannel(Server.GrpcUri, "PanTest/4.0", forwardedFor: "198.51.100.9");
        var (auth, e164) = await new PhoneFlow(proxied.Client, fixture.Inbox).RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        await new PhoneFlow(direct.Client, fixture.Inbox).LoginAsync(e164);

        var sessions = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = access })).Sessions;

        // Why ordered here: the two nodes keep clocks of their own, so which sign-in reads as newer is not the point.
        Assert.Equal(new[] { "127.0.0.1", "203.0.113.7" }, sessions.Select(s => s.ClientIp).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ListSessions_CutsALongUserAgent()
    {
        using var device = Device("PanTest/3.0 " + new string('x', 300));
        var (auth, _) = await new PhoneFlow(device.Client, fixture.Inbox).RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);

        var session = Assert.Single((await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = access })).Sessions);

        Assert.Equal(AuthSession.MaxUserAgentLength, session.UserAgent.Length);
        Assert.StartsWith("PanTest/3.0 xxx", session.UserAgent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APhoneSession_SeesEveryMemberOfThePhone_AMemberBoundSession_OnlyItsOwnMember()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var ownerAccess = await Phones.AccessTokenAsync(auth);
        var password = "Pw-" + Guid.NewGuid().ToString("N");
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, password);
        var siblingAuth = await Phones.PasswordSignInAsync(sibling.DisplayName, password);
        var siblingAccess = await Phones.AccessTokenAsync(siblingAuth);
        var (strangerAuth, _) = await Phones.RegisterAsync();
        var strangerAccess = await Phones.AccessTokenAsync(strangerAuth);
        var owner = (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = ownerAccess })).Info.Uid;

        var byPhone = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = ownerAccess })).Sessions;
        var bySibling = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = siblingAccess })).Sessions;
        var byStranger = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = strangerAccess })).Sessions;

        Assert.Contains(byPhone, s => s.Uid == owner && s.Current);
        Assert.Contains(byPhone, s => s.Uid == sibling.Uid && s.AuthMethod == AuthMethods.Password);
        Assert.All(byPhone, s => Assert.Contains(s.Uid, new[] { owner, sibling.Uid }));
        Assert.NotEmpty(bySibling);
        Assert.All(bySibling, s => Assert.Equal(sibling.Uid, s.Uid));
        Assert.Contains(bySibling, s => s.Current && s.AuthMethod == AuthMethods.Password);
        Assert.True(Assert.Single(byStranger).Current);
    }

    [Fact]
    public async Task AMemberBoundSession_IsShownOnlyItsOwnMembersApps_OfAPhoneSessionItSees()
    {
        // A phone sign-in opened as the sibling speaks for the whole phone; the sibling's password session sees it (it
        // is the sibling's), but which apps hold the owner's tokens from it is the owner's business.
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var phoneAuth = await TestMembers.AuthTokenAsync(Server, sibling);
        await TestMembers.AccessTokenAsync(Server, phoneAuth, sibling, "jkforum");
        await TestMembers.AccessTokenAsync(Server, phoneAuth, owner, "shop24h");
        var bound = await TestMembers.AccessTokenAsync(Server, await TestMembers.AuthTokenAsync(Server, sibling, AuthMethods.Password), sibling);
        var byPhone = await TestMembers.AccessTokenAsync(Server, phoneAuth, owner, "jkforum");

        var seenByBound = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = bound })).Sessions;
        var seenByPhone = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = byPhone })).Sessions;

        Assert.Equal(new[] { "jkforum" }, Assert.Single(seenByBound, s => s.AuthMethod == AuthMethods.Phone).AppIds);
        Assert.Equal(new[] { "jkforum", "shop24h" }, Assert.Single(seenByPhone, s => s.AuthMethod == AuthMethods.Phone).AppIds);
    }

    [Fact]
    public async Task ListSessions_NeverShowsTheSessionsOfADeletedMember()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var ownerAccess = await Phones.AccessTokenAsync(auth);
        var password = "Pw-" + Guid.NewGuid().ToString("N");
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, password);
        await Phones.PasswordSignInAsync(sibling.DisplayName, password);
        Assert.Contains((await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = ownerAccess })).Sessions, s => s.Uid == sibling.Uid);

        await TestMembers.UpdateAsync(Server, sibling.Uid, m => m.Deleted = Server.Clock.GetUtcNow());

        var sessions = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = ownerAccess })).Sessions;
        Assert.DoesNotContain(sessions, s => s.Uid == sibling.Uid);
        Assert.NotEmpty(sessions);
    }

    [Fact]
    public async Task EndSession_EndsThatSessionsAuthAndAccessTokens_AndNothingElse()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var caller = await Phones.AccessTokenAsync(auth);
        var password = "Pw-" + Guid.NewGuid().ToString("N");
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, password);
        var otherAuth = await Phones.LoginAsync(e164);
        var otherForum = await Phones.AccessTokenAsync(otherAuth);
        var otherSibling = await Phones.AccessTokenAsync(otherAuth, sibling.ObjectId);
        var thirdAuth = await Phones.LoginAsync(e164);
        var third = await Phones.AccessTokenAsync(thirdAuth);
        var target = await SessionIdOfAsync(caller, otherForum);

        await Client.EndSessionAsync(new EndSessionRequest { AccessToken = caller, SessionId = target });

        await ExpectDeadAsync(otherForum);
        await ExpectDeadAsync(otherSibling);
        await Errors.ExpectAsync(() => Phones.AccessTokenAsync(otherAuth), StatusCode.Unauthenticated, "ErrAccessToken.INVALID");
        await Client.MeAsync(new MeRequest { AccessToken = caller });
        await Client.MeAsync(new MeRequest { AccessToken = third });
        await Phones.AccessTokenAsync(thirdAuth);
        var left = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = caller })).Sessions;
        Assert.DoesNotContain(left, s => s.SessionId == target);
        Assert.Equal(2, left.Count);

        await Errors.ExpectAsync(() => Client.EndSessionAsync(new EndSessionRequest { AccessToken = caller, SessionId = target }).ResponseAsync,
            StatusCode.NotFound, NotFound);
    }

    [Fact]
    public async Task EndSession_OfTheCallersOwnSession_SignsItOut()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var caller = await Phones.AccessTokenAsync(auth);
        var own = Assert.Single((await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = caller })).Sessions);

        await Client.EndSessionAsync(new EndSessionRequest { AccessToken = caller, SessionId = own.SessionId });

        await ExpectDeadAsync(caller);
        await Errors.ExpectAsync(() => Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = caller }).ResponseAsync,
            StatusCode.Unauthenticated, "ListSessionsResponse.Error.TokenInvalid");
    }

    [Fact]
    public async Task EndSession_OfASessionTheCallerMayNotSee_IsNotFound_AndEndsNothing()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var ownerAccess = await Phones.AccessTokenAsync(auth);
        var password = "Pw-" + Guid.NewGuid().ToString("N");
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, password);
        var siblingAccess = await Phones.AccessTokenAsync(await Phones.PasswordSignInAsync(sibling.DisplayName, password));
        var (strangerAuth, _) = await Phones.RegisterAsync();
        var strangerAccess = await Phones.AccessTokenAsync(strangerAuth);
        var strangers = await SessionIdOfAsync(strangerAccess, strangerAccess);
        var owners = await SessionIdOfAsync(ownerAccess, ownerAccess);

        // Another phone's session, a session of another member of the phone to a member-bound session, an unknown id.
        var answers = new List<RpcException>
        {
            await Errors.ExpectAsync(() => Client.EndSessionAsync(new EndSessionRequest { AccessToken = ownerAccess, SessionId = strangers }).ResponseAsync, StatusCode.NotFound, NotFound),
            await Errors.ExpectAsync(() => Client.EndSessionAsync(new EndSessionRequest { AccessToken = siblingAccess, SessionId = owners }).ResponseAsync, StatusCode.NotFound, NotFound),
            await Errors.ExpectAsync(() => Client.EndSessionAsync(new EndSessionRequest { AccessToken = ownerAccess, SessionId = new string('A', 22) }).ResponseAsync, StatusCode.NotFound, NotFound),
        };

        Assert.Single(answers.Select(a => a.Status.Detail).Distinct());
        Assert.All(answers, a => Assert.Equal("1002", a.Info().Metadata["code"]));
        await Client.MeAsync(new MeRequest { AccessToken = strangerAccess });
        await Client.MeAsync(new MeRequest { AccessToken = ownerAccess });
        await Client.MeAsync(new MeRequest { AccessToken = siblingAccess });
    }

    [Fact]
    public async Task EndOtherSessions_EndsEveryOtherSession_AndKeepsTheCallerWorking()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var caller = await Phones.AccessTokenAsync(auth);
        var others = new[] { await Phones.AccessTokenAsync(await Phones.LoginAsync(e164)), await Phones.AccessTokenAsync(await Phones.LoginAsync(e164)) };
        var (strangerAuth, _) = await Phones.RegisterAsync();
        var stranger = await Phones.AccessTokenAsync(strangerAuth);

        var ended = await Client.EndOtherSessionsAsync(new EndOtherSessionsRequest { AccessToken = caller });

        Assert.Equal(2, ended.Ended);
        foreach (var other in others)
        {
            await ExpectDeadAsync(other);
        }

        await Client.MeAsync(new MeRequest { AccessToken = caller });
        await Phones.AccessTokenAsync(auth);
        await Client.MeAsync(new MeRequest { AccessToken = stranger });
        Assert.True(Assert.Single((await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = caller })).Sessions).Current);
        Assert.Equal(0, (await Client.EndOtherSessionsAsync(new EndOtherSessionsRequest { AccessToken = caller })).Ended);
    }

    [Fact]
    public async Task EndOtherSessions_FromAMemberBoundSession_EndsOnlyItsOwnMembersSessions()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var ownerAccess = await Phones.AccessTokenAsync(auth);
        var password = "Pw-" + Guid.NewGuid().ToString("N");
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, password);
        var first = await Phones.AccessTokenAsync(await Phones.PasswordSignInAsync(sibling.DisplayName, password));
        var second = await Phones.AccessTokenAsync(await Phones.PasswordSignInAsync(sibling.DisplayName, password));

        var ended = await Client.EndOtherSessionsAsync(new EndOtherSessionsRequest { AccessToken = second });

        Assert.True(ended.Ended >= 1);
        await ExpectDeadAsync(first);
        await Client.MeAsync(new MeRequest { AccessToken = second });
        await Client.MeAsync(new MeRequest { AccessToken = ownerAccess });
    }

    [Fact]
    public async Task AMemberBoundSession_MayNotEndAPhoneSignIn_OpenedAsItsMember_ThatSpeaksForItsSiblings()
    {
        // A phone sign-in opened as the sibling holds the owner's tokens too; the sibling's password proves no phone.
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var phoneAuth = await TestMembers.AuthTokenAsync(Server, sibling);
        var ownersToken = await TestMembers.AccessTokenAsync(Server, phoneAuth, owner, "shop24h");
        var bound = await TestMembers.AccessTokenAsync(Server, await TestMembers.AuthTokenAsync(Server, sibling, AuthMethods.Password), sibling);
        var boundOther = await TestMembers.AccessTokenAsync(Server, await TestMembers.AuthTokenAsync(Server, sibling, AuthMethods.Password), sibling);
        var phoneSession = await SessionIdOfAsync(bound, ownersToken);

        var refused = await Errors.ExpectAsync(
            () => Client.EndSessionAsync(new EndSessionRequest { AccessToken = bound, SessionId = phoneSession }).ResponseAsync,
            StatusCode.PermissionDenied, "EndSessionResponse.Error.SessionProvedThePhone");
        var others = await Client.EndOtherSessionsAsync(new EndOtherSessionsRequest { AccessToken = bound });

        Assert.Equal("1003", refused.Info().Metadata["code"]);
        Assert.Equal(1, others.Ended);
        await ExpectDeadAsync(boundOther);
        await Client.MeAsync(new MeRequest { AccessToken = ownersToken });
        await Client.AccessTokenAsync(new AccessTokenRequest { AuthToken = phoneAuth, ObjectId = owner.ObjectId.ToString("D"), AppId = "jkforum" });
        var listed = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = bound })).Sessions;
        Assert.Equal(phoneSession, Assert.Single(listed, s => !s.CanEnd).SessionId);
        Assert.True(Assert.Single(listed, s => s.Current).CanEnd);
        var byPhone = await TestMembers.AccessTokenAsync(Server, phoneAuth, owner);
        Assert.All((await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = byPhone })).Sessions, s => Assert.True(s.CanEnd));
        await Client.EndSessionAsync(new EndSessionRequest { AccessToken = byPhone, SessionId = await SessionIdOfAsync(byPhone, bound) });
        await ExpectDeadAsync(bound);
    }

    [Fact]
    public async Task TwoNodes_ASessionEndedOnOne_IsRefusedByTheOtherAtOnce()
    {
        await using var node = await fixture.StartNodeAsync();
        var other = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var (auth, e164) = await Phones.RegisterAsync();
        var caller = await Phones.AccessTokenAsync(auth);
        var ended = await Phones.AccessTokenAsync(await Phones.LoginAsync(e164));
        await other.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = ended });
        await other.MeAsync(new MeRequest { AccessToken = ended });

        await Client.EndSessionAsync(new EndSessionRequest { AccessToken = caller, SessionId = await SessionIdOfAsync(caller, ended) });

        await Errors.ExpectAsync(() => other.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = ended }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
        await Errors.ExpectAsync(() => other.MeAsync(new MeRequest { AccessToken = ended }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
        await other.MeAsync(new MeRequest { AccessToken = caller });
    }

    [Fact]
    public async Task EndingASession_ForgetsItsClientIpAndUserAgent_HoweverItIsEnded()
    {
        // Logout, EndSession, EndOtherSessions and a password change each end sessions; the device facts of an ended
        // session must not wait in its row for the janitor (README "Signed-in devices", Retention).
        using var device = Device("PanTest/5.0 (to be ended)");
        var onDevice = new PhoneFlow(device.Client, fixture.Inbox);
        var (auth, e164) = await onDevice.RegisterAsync();
        var caller = await Phones.AccessTokenAsync(auth);
        var loggedOut = await Phones.AccessTokenAsync(await onDevice.LoginAsync(e164));
        var endedOne = await Phones.AccessTokenAsync(await onDevice.LoginAsync(e164));
        await onDevice.LoginAsync(e164);
        var password = "Pw-" + Guid.NewGuid().ToString("N");
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, password);
        var account = (await TokenInfoAsync(caller)).AccountId;

        await Client.LogoutAsync(new LogoutRequest { PanAccessToken = loggedOut });
        await Client.EndSessionAsync(new EndSessionRequest { AccessToken = caller, SessionId = await SessionIdOfAsync(caller, endedOne) });
        Assert.Equal(1, (await Client.EndOtherSessionsAsync(new EndOtherSessionsRequest { AccessToken = caller })).Ended);
        var kept = await Phones.AccessTokenAsync(await onDevice.PasswordSignInAsync(sibling.DisplayName, password));
        await onDevice.PasswordSignInAsync(sibling.DisplayName, password);
        var keptSession = (await TokenInfoAsync(kept)).SessionId;
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            // The password change's revocation (CredentialStore.EndOtherSessionsAsync keeps the changing session).
            await scope.ServiceProvider.GetRequiredService<TokenService>().RevokeMemberExceptAsync(sibling.Uid, keptSession, default);
        }

        var rows = await TestMembers.WithDbAsync(Server, db => db.Set<AuthSession>().AsNoTracking().Where(s => s.AccountId == account).ToListAsync());
        var ended = rows.Where(s => s.Revoked != null).ToList();
        Assert.True(ended.Count >= 4, $"{ended.Count} ended sessions");
        Assert.All(ended, s => Assert.Equal((null, null), (s.ClientIp, s.UserAgent)));
        Assert.Equal(("127.0.0.1", "PanTest/5.0 (to be ended)"), rows.Where(s => s.Id == keptSession).Select(s => (s.ClientIp, s.UserAgent)).Single());
        Assert.Equal(2, rows.Count(s => s.Revoked == null));
    }

    /// <summary>
    /// Sessions ended by a node from before ending cleared the device facts still hold them; the token janitor's pass
    /// clears them (either fact alone too), and leaves the facts of live sessions as they are.
    /// </summary>
    [Fact]
    public async Task TheTokenJanitor_ClearsTheDeviceFactsOfSessionsEndedWithThemStillSet_AndKeepsLiveOnes()
    {
        using var device = Device("PanTest/6.0 (janitor)");
        var onDevice = new PhoneFlow(device.Client, fixture.Inbox);
        var (auth, e164) = await onDevice.RegisterAsync();
        var live = await Phones.AccessTokenAsync(auth);
        var endedBoth = await Phones.AccessTokenAsync(await onDevice.LoginAsync(e164));
        var endedAgentOnly = await Phones.AccessTokenAsync(await onDevice.LoginAsync(e164));
        var endedAddressOnly = await Phones.AccessTokenAsync(await onDevice.LoginAsync(e164));
        var liveSession = (await TokenInfoAsync(live)).SessionId;
        var ended = new List<long>();
        foreach (var token in new[] { endedBoth, endedAgentOnly, endedAddressOnly })
        {
            ended.Add((await TokenInfoAsync(token)).SessionId);
            await Client.LogoutAsync(new LogoutRequest { PanAccessToken = token });
        }

        // As a node from before the change left them: ended, with the device facts still in the row.
        await TestMembers.WithDbAsync(Server, async db =>
        {
            var (both, agentOnly, addressOnly) = (ended[0], ended[1], ended[2]);
            await db.Database.ExecuteSqlAsync($"UPDATE auth_sessions SET client_ip = {"198.51.100.7"}, user_agent = {"OldNode/1.0"} WHERE id = {both}");
            await db.Database.ExecuteSqlAsync($"UPDATE auth_sessions SET user_agent = {"OldNode/1.0"} WHERE id = {agentOnly}");
            return await db.Database.ExecuteSqlAsync($"UPDATE auth_sessions SET client_ip = {"198.51.100.7"} WHERE id = {addressOnly}");
        });

        await Server.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<TokenJanitor>().Single().SweepOnceAsync(default);

        var rows = await TestMembers.WithDbAsync(Server, db => db.Set<AuthSession>().AsNoTracking()
            .Where(s => ended.Contains(s.Id) || s.Id == liveSession).ToDictionaryAsync(s => s.Id));
        Assert.All(ended, id => Assert.Equal<(string?, string?)>((null, null), (rows[id].ClientIp, rows[id].UserAgent)));
        Assert.All(ended, id => Assert.NotNull(rows[id].Revoked));
        Assert.Equal<(string?, string?)>(("127.0.0.1", "PanTest/6.0 (janitor)"), (rows[liveSession].ClientIp, rows[liveSession].UserAgent));
        Assert.Null(rows[liveSession].Revoked);
    }

    [Theory]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAA!")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task EndSession_AMalformedSessionId_IsInvalidArgumentNamingIt(string sessionId)
    {
        var (auth, _) = await Phones.RegisterAsync();
        var caller = await Phones.AccessTokenAsync(auth);

        var ex = await Errors.ExpectAsync(() => Client.EndSessionAsync(new EndSessionRequest { AccessToken = caller, SessionId = sessionId }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");

        Assert.Equal("session_id", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        await Client.MeAsync(new MeRequest { AccessToken = caller });
    }

    [Fact]
    public async Task AnEmptyToken_IsInvalidArgument_AndABadOrEndedOne_IsUnauthenticated()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var ended = await Phones.AccessTokenAsync(auth);
        var id = await SessionIdOfAsync(ended, ended);
        await Client.LogoutAsync(new LogoutRequest { PanAccessToken = ended });
        var calls = new (string Reason, Func<string, Task> Call)[]
        {
            ("ListSessionsResponse.Error.TokenInvalid", t => Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = t }).ResponseAsync),
            ("EndSessionResponse.Error.TokenInvalid", t => Client.EndSessionAsync(new EndSessionRequest { AccessToken = t, SessionId = id }).ResponseAsync),
            ("EndOtherSessionsResponse.Error.TokenInvalid", t => Client.EndOtherSessionsAsync(new EndOtherSessionsRequest { AccessToken = t }).ResponseAsync),
        };

        foreach (var (reason, call) in calls)
        {
            var empty = await Errors.ExpectAsync(() => call(""), StatusCode.InvalidArgument, "INVALID_ARGUMENT");
            Assert.Equal("access_token", Assert.Single(empty.BadRequest()!.FieldViolations).Field);
            foreach (var token in new[] { "garbage", ended })
            {
                var ex = await Errors.ExpectAsync(() => call(token), StatusCode.Unauthenticated, reason);
                Assert.Equal("1001", ex.Info().Metadata["code"]);
            }
        }
    }

    [Fact]
    public async Task TheHttpJsonRoutes_ListAndEndSessions()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var caller = await Phones.AccessTokenAsync(auth);
        var start = await Phones.StartLoginAsync(e164);
        var code = await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 2);
        using var login = await PostAsync("/v2/member/login", new { phase = "PHASE_INPUT_CODE", phaseSessionToken = start.PhaseSessionToken, phaseInputCodeValue = code }, "PanJson/1.0 (browser)");
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var jsonAuth = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("phaseDoneAuthToken").GetString()!;
        var jsonAccess = await Phones.AccessTokenAsync(jsonAuth);
        var third = await Phones.AccessTokenAsync(await Phones.LoginAsync(e164));

        using var list = await PostAsync("/v2/member/list-sessions", new { accessToken = caller });
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var sessions = (await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessions").EnumerateArray().ToList();
        Assert.Equal(3, sessions.Count);
        var json = sessions.Single(s => s.TryGetProperty("userAgent", out var ua) && ua.GetString() == "PanJson/1.0 (browser)");
        Assert.Equal("127.0.0.1", json.GetProperty("clientIp").GetString());
        Assert.Equal("auth-by-phone", json.GetProperty("authMethod").GetString());
        Assert.Equal(new[] { "jkforum" }, json.GetProperty("appIds").EnumerateArray().Select(a => a.GetString()));
        Assert.True(sessions.Last().GetProperty("current").GetBoolean());

        using var end = await PostAsync("/v2/member/end-session", new { accessToken = caller, sessionId = json.GetProperty("sessionId").GetString() });
        Assert.Equal(HttpStatusCode.OK, end.StatusCode);
        await ExpectDeadAsync(jsonAccess);
        using var again = await PostAsync("/v2/member/end-session", new { accessToken = caller, sessionId = json.GetProperty("sessionId").GetString() });
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(NotFound, await JsonErrors.ReasonAsync(again));

        using var others = await PostAsync("/v2/member/end-other-sessions", new { accessToken = caller });
        Assert.Equal(HttpStatusCode.OK, others.StatusCode);
        Assert.Equal(1, (await others.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ended").GetInt32());
        await ExpectDeadAsync(third);

        using var bad = await PostAsync("/v2/member/list-sessions", new { accessToken = "garbage" });
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Equal("ListSessionsResponse.Error.TokenInvalid", await JsonErrors.ReasonAsync(bad));
        using var empty = await PostAsync("/v2/member/end-session", new { accessToken = caller });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(new string?[] { "session_id" }, await JsonErrors.FieldsAsync(empty));
    }

    private async Task<HttpResponseMessage> PostAsync(string path, object body, string? userAgent = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (userAgent is not null)
        {
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        }

        return await Server.Http.SendAsync(request);
    }

    /// <summary>The session id ListSessions (asked with <paramref name="caller"/>) shows for the session of <paramref name="accessToken"/>.</summary>
    private async Task<string> SessionIdOfAsync(string caller, string accessToken)
    {
        var hash = OpaqueTokens.Hash(accessToken);
        var session = await TestMembers.WithDbAsync(Server, db =>
            db.Set<StoredAccessToken>().Where(t => t.Hash == hash).Select(t => t.Session!.PublicId).SingleAsync());
        var listed = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = caller })).Sessions;
        return Assert.Single(listed, s => s.SessionId == Pan.Server.Session.SessionIds.Encode(session)).SessionId;
    }

    private async Task<AccessTokenInfo> TokenInfoAsync(string accessToken)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<TokenService>().ValidateAccessTokenAsync(accessToken, default))!;
    }

    private async Task<string> InProcessAuthTokenAsync(long uid, string authMethod)
    {
        var member = await TestMembers.WithDbAsync(Server, db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == uid));
        return await TestMembers.AuthTokenAsync(Server, member, authMethod);
    }

    private async Task ExpectDeadAsync(string accessToken)
    {
        await Errors.ExpectAsync(() => Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = accessToken }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = accessToken }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
    }

    private UserAgentChannel Device(string userAgent) => new(Server.GrpcUri, userAgent);
}

public sealed class SignedInDevicesBehaviour_Sqlite(SqlitePhoneFlowFixture f) : SignedInDevicesBehaviour<SqlitePhoneFlowFixture>(f);

public sealed class SignedInDevicesBehaviour_Postgres(PostgresPhoneFlowFixture f) : SignedInDevicesBehaviour<PostgresPhoneFlowFixture>(f);
