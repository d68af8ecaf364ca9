using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data.Audit;
using Pan.Data.Credentials;
using Pan.Data.Omniauth;
using Pan.Data.Passkeys;
using Pan.Data.PhaseSessions;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.General.Member.Dangerous;
using Pan.Server.Credentials;
using Pan.Server.Tokens;
using Pan.Tests.Admin;
using Pan.Tests.Infrastructure;
using PhoneFlow = Pan.Tests.PhoneFlows.Phones;

namespace Pan.Tests.Members;

/// <summary>
/// ExportMyData (a Pan extension): what the export holds and never holds, its "export-data" step-up (single use, bound
/// to the member and the operation), the refusals of a deleted or suspended member, the rate, and the HTTP/JSON route.
/// </summary>
public abstract class DataExportBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ExtrasFixture
{
    private const string Password = "harbour lights over Keelung 1987";
    private const string Answer = "a cat called Mochi";

    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    private PhoneFlow Phones => new(Client, fixture.Inbox);

    [Fact]
    public async Task Export_AfterAnSmsStepUp_HoldsEveryFact_AndNoHashTokenOrSecret_NorASiblingsPrivateFields()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        var me = (await Client.MeAsync(new MeRequest { AccessToken = access })).User;
        var email = $"{me.DisplayName}@example.test";
        await TestMembers.UpdateAsync(Server, me.Uid, m => (m.Email, m.EmailKey, m.EmailVerified) = (email, email, true));
        await SetPasswordAsync(me.Uid);
        await Client.SaveAddressBookAsync(new SaveAddressBookRequest { AccessToken = access, AddressBook = new() { FullName = "Lin Mei", Address = "12 Harbour Road, Keelung" } });
        await Client.SaveAddressBookAsync(new SaveAddressBookRequest { AccessToken = access, AddressBook = new() { FullName = "Lin Mei", Address = "7 Hill Lane, Taipei", DefaultBuyer = true } });
        var providerUserId = "g-" + Guid.NewGuid().ToString("N");
        var clientId = "export-client-" + Guid.NewGuid().ToString("N")[..8];
        await TestMembers.WithDbAsync(Server, async db =>
        {
            var now = Server.Clock.GetUtcNow();
            db.Add(new SocialIdentity { Provider = "google_oauth2", ProviderUserId = providerUserId, Uid = me.Uid, Created = now, LastUsed = now });
            var app = new OpenIddictEntityFrameworkCoreApplication { Id = Guid.NewGuid().ToString(), ClientId = clientId, DisplayName = "Export Test App" };
            db.Add(app);
            db.Add(new OpenIddictEntityFrameworkCoreAuthorization
            {
                Id = Guid.NewGuid().ToString(), Application = app, Subject = me.ObjectId, Scopes = "[\"openid\",\"profile\"]",
                Status = "valid", Type = "permanent", CreationDate = now.UtcDateTime,
            });
            return await db.SaveChangesAsync();
        });
        var owner = await TestMembers.WithDbAsync(Server, db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == me.Uid));
        var siblingEmail = $"sibling{owner.Uid}@example.test";
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner, m => (m.Email, m.EmailKey, m.ActivateIp) = (siblingEmail, siblingEmail, "203.0.113.77"));

        // The documented sequence: the SMS step-up for "export-data", then the export.
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "export-data" });
        var code = await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 2);
        var verify = (await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = "export-data", Code = code })).VerifyToken;
        var export = await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = verify });

        Assert.Equal("application/json; charset=utf-8", export.ContentType);
        Assert.Equal(Server.Clock.GetUtcNow().ToUnixTimeSeconds(), export.GeneratedAt.Seconds);
        using var doc = JsonDocument.Parse(export.Json);
        var root = doc.RootElement;
        Assert.Equal(2, root.GetProperty("export_version").GetInt32());
        var member = root.GetProperty("member");
        Assert.Equal(me.Uid, member.GetProperty("uid").GetInt64());
        Assert.Equal(me.ObjectId, member.GetProperty("object_id").GetString());
        Assert.Equal(me.DisplayName, member.GetProperty("display_name").GetString());
        Assert.Equal(email, member.GetProperty("email").GetString());
        Assert.True(member.GetProperty("email_verified").GetBoolean());
        Assert.Equal("not_set", member.GetProperty("gender").GetString());
        Assert.Equal(me.Avatar, member.GetProperty("avatar_url").GetString());
        Assert.False(string.IsNullOrEmpty(member.GetProperty("created").GetString()));
        var account = root.GetProperty("account");
        Assert.Equal(e164, account.GetProperty("phone").GetString());
        Assert.Equal(me.PhoneId, account.GetProperty("phone_id").GetString());
        var other = Assert.Single(account.GetProperty("other_members").EnumerateArray());
        Assert.Equal(sibling.Uid, other.GetProperty("uid").GetInt64());
        Assert.Equal(sibling.DisplayName, other.GetProperty("display_name").GetString());
        Assert.Equal(new[] { "display_name", "uid" }, other.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var credentials = root.GetProperty("credentials");
        Assert.True(credentials.GetProperty("password_set").GetBoolean());
        Assert.True(credentials.GetProperty("security_question_set").GetBoolean());
        Assert.Equal("First pet?", credentials.GetProperty("security_question").GetString());
        Assert.Equal(
            new string?[] { "12 Harbour Road, Keelung", "7 Hill Lane, Taipei" },
            root.GetProperty("address_books").EnumerateArray().Select(a => a.GetProperty("address").GetString()).Order(StringComparer.Ordinal));
        var identity = Assert.Single(root.GetProperty("social_identities").EnumerateArray());
        Assert.Equal(("google_oauth2", providerUserId), (identity.GetProperty("provider").GetString(), identity.GetProperty("provider_user_id").GetString()));
        var consent = Assert.Single(root.GetProperty("oauth_consents").EnumerateArray());
        Assert.Equal(clientId, consent.GetProperty("client_id").GetString());
        Assert.Equal(new string?[] { "openid", "profile" }, consent.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.True(consent.GetProperty("remembered").GetBoolean());
        Assert.Contains(root.GetProperty("app_tokens").EnumerateArray(),
            t => t.GetProperty("app_id").GetString() == "jkforum" && t.GetProperty("kind").GetString() == "access_token");
        Assert.Contains(root.GetProperty("sessions").EnumerateArray(), s => s.GetProperty("auth_method").GetString() == AuthMethods.Phone);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("guest").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("suspension").ValueKind);

        // No stored secret of the member, in any form the export could hold it, and no token the test holds.
        var secrets = new List<string> { auth, access, verify, Password, Answer, siblingEmail, "203.0.113.77" };
        secrets.AddRange(await StoredSecretsAsync(me.Uid));
        Assert.All(secrets, s => Assert.DoesNotContain(s, export.Json, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("argon2", export.Json, StringComparison.OrdinalIgnoreCase);

        // The export is audited, and the audit line's time gates the next one.
        var audit = await TestMembers.WithDbAsync(Server, db => db.Set<AuditEntry>().AsNoTracking().Where(e => e.Target == $"member:{me.Uid}").ToListAsync());
        Assert.Contains(audit, e => e is { Action: "member.export-data", Outcome: "ok" } && e.Actor == $"member:{me.Uid}");
    }

    [Fact]
    public async Task Export_ListsThePasskeys_WithNameDatesAndAaguid_ButNoPublicKey()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var created = Server.Clock.GetUtcNow().AddDays(-3);
        var aaguid = Guid.NewGuid();
        byte[] credentialId = [.. BitConverter.GetBytes(member.Uid), 1, 2, 3];
        byte[] publicKey = [.. System.Security.Cryptography.RandomNumberGenerator.GetBytes(77)];
        await TestMembers.WithDbAsync(Server, async db =>
        {
            db.Add(new MemberPasskey { Uid = member.Uid, CredentialId = credentialId, PublicKey = publicKey, SignCount = 4, Aaguid = aaguid, Name = "Office key", Created = created, LastUsed = created.AddHours(5) });
            return await db.SaveChangesAsync();
        });

        var export = await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData) });

        using var doc = JsonDocument.Parse(export.Json);
        var passkey = Assert.Single(doc.RootElement.GetProperty("passkeys").EnumerateArray());
        Assert.Equal(System.Buffers.Text.Base64Url.EncodeToString(credentialId), passkey.GetProperty("passkey_id").GetString());
        Assert.Equal("Office key", passkey.GetProperty("name").GetString());
        Assert.Equal(aaguid.ToString("D"), passkey.GetProperty("aaguid").GetString());
        Assert.Equal(created.ToUnixTimeSeconds(), passkey.GetProperty("created").GetDateTimeOffset().ToUnixTimeSeconds());
        Assert.Equal(created.AddHours(5).ToUnixTimeSeconds(), passkey.GetProperty("last_used").GetDateTimeOffset().ToUnixTimeSeconds());
        Assert.DoesNotContain(System.Buffers.Text.Base64Url.EncodeToString(publicKey), export.Json, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(publicKey), export.Json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_ShowsEachSessionsDevice_AsListSessionsDoes()
    {
        const string Agent = "PanExportProbe/2.1 (tablet)";
        var (auth, e164) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        using var device = new UserAgentChannel(Server.GrpcUri, Agent);
        await new PhoneFlow(device.Client, fixture.Inbox).LoginAsync(e164);
        var uid = (await Client.MeAsync(new MeRequest { AccessToken = access })).User.Uid;

        var export = await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = await VerifyTokenAsync(uid, VerifyPurposes.ExportData) });

        using var doc = JsonDocument.Parse(export.Json);
        var sessions = doc.RootElement.GetProperty("sessions").EnumerateArray().ToList();
        Assert.Equal(2, sessions.Count);
        var tablet = Assert.Single(sessions, s => s.GetProperty("user_agent").GetString() == Agent);
        Assert.Equal("127.0.0.1", tablet.GetProperty("client_ip").GetString());
    }

    [Fact]
    public async Task Export_OfAMemberWithThousandsOfAccessTokens_GroupsThemByAppAndKind()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var hash = OpaqueTokens.Hash(access);
        var now = Server.Clock.GetUtcNow();
        await TestMembers.WithDbAsync(Server, async db =>
        {
            var own = await db.Set<StoredAccessToken>().AsNoTracking().SingleAsync(t => t.Hash == hash);
            // Why 1,999 more of the same app: with the caller's own, 2,000 live access tokens of one app (an app can
            // hold thousands within a day), each of which the export once listed on its own.
            db.AddRange(Enumerable.Range(1, 1999).Select(i => new StoredAccessToken
            {
                Hash = OpaqueTokens.Create().Hash,
                SessionId = own.SessionId,
                Uid = own.Uid,
                AppId = own.AppId,
                TokenGeneration = own.TokenGeneration,
                Created = now.AddSeconds(-i),
                Expires = own.Expires.AddSeconds(-i),
            }));
            return await db.SaveChangesAsync();
        });

        var export = await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData) });

        using var doc = JsonDocument.Parse(export.Json);
        var tokens = Assert.Single(doc.RootElement.GetProperty("app_tokens").EnumerateArray());
        Assert.Equal("access_token", tokens.GetProperty("kind").GetString());
        Assert.Equal(2000, tokens.GetProperty("count").GetInt32());
        Assert.True(tokens.GetProperty("first_created").GetDateTimeOffset() < tokens.GetProperty("last_expires").GetDateTimeOffset());
        Assert.True(export.Json.Length < 64 * 1024, $"{export.Json.Length} characters");
    }

    [Fact]
    public async Task Export_OfAMemberWithALongAuditLog_HoldsTheNewestLines_AndTheTotal()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var now = Server.Clock.GetUtcNow();
        await TestMembers.WithDbAsync(Server, db =>
        {
            db.AddRange(Enumerable.Range(0, Pan.Server.Export.ExportDocument.ListLimit + 5).Select(i => new AuditEntry
            {
                At = now.AddMinutes(i - 2000), Actor = "cli:probe", Action = i == 0 ? "probe.oldest" : "probe.line", Target = $"member:{member.Uid}", Outcome = "ok",
            }));
            return db.SaveChangesAsync();
        });

        var export = await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData) });

        using var doc = JsonDocument.Parse(export.Json);
        var lines = doc.RootElement.GetProperty("audit_log").EnumerateArray().ToList();
        Assert.Equal(Pan.Server.Export.ExportDocument.ListLimit, lines.Count);
        Assert.True(doc.RootElement.GetProperty("audit_log_total").GetInt32() >= Pan.Server.Export.ExportDocument.ListLimit + 5);
        Assert.DoesNotContain(lines, l => l.GetProperty("action").GetString() == "probe.oldest");
        Assert.Equal(lines.Select(l => l.GetProperty("at").GetDateTimeOffset()).Order(), lines.Select(l => l.GetProperty("at").GetDateTimeOffset()));
    }

    [Fact]
    public async Task Export_FromAMemberBoundSession_ListsNoOtherMemberOfThePhone_AsOtherMemberAnswersIt()
    {
        // A password (email code, hand-off, social) sign-in proved one member, not the phone: OtherMember answers it an
        // empty list, and so does its export's account.other_members; a phone sign-in's export lists them (uid and name).
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var bound = await TestMembers.AccessTokenAsync(Server, await TestMembers.AuthTokenAsync(Server, sibling, AuthMethods.Password), sibling);
        var byPhone = await TestMembers.AccessTokenAsync(Server, owner);
        Assert.Empty((await Client.OtherMemberAsync(new OtherMemberRequest { AccessToken = bound })).Objects);

        var boundExport = await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = bound, VerifyToken = await VerifyTokenAsync(sibling.Uid, VerifyPurposes.ExportData) });
        var phoneExport = await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = byPhone, VerifyToken = await VerifyTokenAsync(owner.Uid, VerifyPurposes.ExportData) });

        using var boundDoc = JsonDocument.Parse(boundExport.Json);
        using var phoneDoc = JsonDocument.Parse(phoneExport.Json);
        Assert.Empty(boundDoc.RootElement.GetProperty("account").GetProperty("other_members").EnumerateArray());
        Assert.DoesNotContain(owner.DisplayName!, boundExport.Json, StringComparison.Ordinal);
        Assert.Equal(sibling.Uid, Assert.Single(phoneDoc.RootElement.GetProperty("account").GetProperty("other_members").EnumerateArray()).GetProperty("uid").GetInt64());
    }

    [Fact]
    public async Task Export_WithABadVerifyToken_IsRefusedBeforeTakingTheMembersRow()
    {
        // SECURITY 17: any app holding the access token can send a made-up verify token; it is refused before the
        // export's transaction, which writes the member's row (a change every node hears; on SQLite the write lock).
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Pan.Data.PanDbContext>();
        await using (var holder = await db.Database.BeginTransactionAsync())
        {
            await db.Members.Where(m => m.Uid == member.Uid).ExecuteUpdateAsync(u => u.SetProperty(m => m.Version, m => m.Version));
            var madeUp = Pan.Server.Tokens.OpaqueTokens.Create().Token;

            await Errors.ExpectAsync(
                () => Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = madeUp }, deadline: DateTime.UtcNow.AddSeconds(3)).ResponseAsync,
                StatusCode.PermissionDenied, "ExportMyDataResponse.Error.VerifyTokenInvalid");
            await Errors.ExpectAsync(
                () => Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = new string('x', 100_000) }, deadline: DateTime.UtcNow.AddSeconds(3)).ResponseAsync,
                StatusCode.PermissionDenied, "ExportMyDataResponse.Error.VerifyTokenInvalid");
            await holder.RollbackAsync();
        }

        await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData) });
    }

    [Fact]
    public async Task Export_WithAPasswordStepUp_Works_AndItsVerifyTokenIsSpent()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        await SetPasswordAsync(member.Uid);
        var verify = (await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest
        {
            DisplayName = member.DisplayName, Password = Password, SecurityQuestion = new SecurityQuestion { Answer = Answer }, SessionToken = "export-data",
        })).VerifyToken;

        var export = await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = verify });
        Assert.Contains(member.DisplayName!, export.Json, StringComparison.Ordinal);

        // Single use: the same token again is refused like any spent one (before the rate is even looked at).
        await Errors.ExpectAsync(() => Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = verify }).ResponseAsync,
            StatusCode.PermissionDenied, "ExportMyDataResponse.Error.VerifyTokenInvalid");
    }

    [Fact]
    public async Task Export_RefusesAMissingWrongOtherOperationOrOtherMembersVerifyToken_AndBadInput()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var stranger = await TestMembers.CreateAsync(Server);

        var missing = await Errors.ExpectAsync(() => Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access }).ResponseAsync,
            StatusCode.InvalidArgument, "ExportMyDataResponse.Error.VerifyTokenInvalid");
        Assert.Equal("verify_token", Assert.Single(missing.BadRequest()!.FieldViolations).Field);
        var noAccess = await Errors.ExpectAsync(() => Client.ExportMyDataAsync(new ExportMyDataRequest { VerifyToken = "x" }).ResponseAsync,
            StatusCode.InvalidArgument, "ExportMyDataResponse.Error.TokenInvalid");
        Assert.Equal("access_token", Assert.Single(noAccess.BadRequest()!.FieldViolations).Field);
        await Errors.ExpectAsync(() => Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = "nope", VerifyToken = "x" }).ResponseAsync,
            StatusCode.Unauthenticated, "ExportMyDataResponse.Error.TokenInvalid");

        var delete = await VerifyTokenAsync(member.Uid, VerifyPurposes.Delete);
        var switching = await VerifyTokenAsync(member.Uid, VerifyPurposes.SwitchMember);
        var strangers = await VerifyTokenAsync(stranger.Uid, VerifyPurposes.ExportData);
        foreach (var wrong in new[] { "not-a-token", delete, switching, strangers })
        {
            await Errors.ExpectAsync(() => Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = wrong }).ResponseAsync,
                StatusCode.PermissionDenied, "ExportMyDataResponse.Error.VerifyTokenInvalid");
        }

        // None of them was spent by the refusals.
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<StoredVerifyToken>().CountAsync(t => (t.Uid == member.Uid || t.Uid == stranger.Uid) && t.UsedAt != null)));
        Assert.False(await TestMembers.WithDbAsync(Server, db => db.Set<AuditEntry>().AnyAsync(e => e.Action == "member.export-data" && e.Target == $"member:{member.Uid}")));
    }

    [Fact]
    public async Task Export_OfADeletedMembersToken_IsTokenInvalid()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var verify = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData);
        await new Command.CommandClient(Server.Grpc).DeleteMemberAsync(new CmdDeleteMemberRequest
        {
            AppId = "jkforum", PanAccessToken = access, DelToken = await VerifyTokenAsync(member.Uid, VerifyPurposes.Delete),
        });

        await Errors.ExpectAsync(() => Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = verify }).ResponseAsync,
            StatusCode.Unauthenticated, "ExportMyDataResponse.Error.TokenInvalid");
    }

    [Fact]
    public async Task Export_OfASuspendedMember_IsRefused()
    {
        // Suspended the usual way: its access token and verify tokens ended with the suspension.
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var verify = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData);
        await TestSuspensions.SuspendAsync(Server, member.Uid);
        await Errors.ExpectAsync(() => Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = verify }).ResponseAsync,
            StatusCode.Unauthenticated, "ExportMyDataResponse.Error.TokenInvalid");

        // A suspension that commits after the access token was checked is read in the export's transaction: refused as
        // suspended, the verify token left unspent.
        var racing = await TestMembers.CreateAsync(Server);
        var racingAccess = await TestMembers.AccessTokenAsync(Server, racing);
        var racingVerify = await VerifyTokenAsync(racing.Uid, VerifyPurposes.ExportData);
        await TestMembers.WithDbAsync(Server, db => db.Members.Where(m => m.Uid == racing.Uid)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.SuspendedUntil, Server.Clock.GetUtcNow().AddDays(1))));
        var ex = await Errors.ExpectAsync(() => Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = racingAccess, VerifyToken = racingVerify }).ResponseAsync,
            StatusCode.PermissionDenied, "MEMBER_SUSPENDED");
        Assert.True(ex.Info().Metadata.ContainsKey("suspended_until"));
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<StoredVerifyToken>().CountAsync(t => t.Uid == racing.Uid && t.UsedAt != null)));
    }

    [Fact]
    public async Task Export_TwiceWithinTheRate_IsTooSoon_KeepsTheVerifyToken_AndWorksOnceTheRatePassed()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData) });

        Server.Clock.Advance(TimeSpan.FromMinutes(9));
        var second = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData);
        var ex = await Errors.ExpectAsync(() => Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = second }).ResponseAsync,
            StatusCode.ResourceExhausted, "ExportMyDataResponse.Error.TooSoon");
        Assert.Equal("60", ex.Info().Metadata["retry_after_seconds"]);
        Assert.True(await TestMembers.WithDbAsync(Server, db => db.Set<StoredVerifyToken>().AnyAsync(t => t.Uid == member.Uid && t.Purpose == VerifyPurposes.ExportData && t.UsedAt == null)));

        Server.Clock.Advance(TimeSpan.FromMinutes(1));
        var export = await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = second });
        Assert.Contains($"\"uid\": {member.Uid}", export.Json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_TwoAtOnceForOneMember_OneExports_TheOtherIsTooSoon()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var first = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData);
        var second = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData);

        var reasons = await Task.WhenAll(new[] { first, second }.Select(token => Errors.ReasonOfAsync(() =>
            Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = token }).ResponseAsync)));

        Assert.Equal(new[] { null, "ExportMyDataResponse.Error.TooSoon" }, reasons.Order(StringComparer.Ordinal));
        Assert.Single(await TestMembers.WithDbAsync(Server, db => db.Set<AuditEntry>().AsNoTracking()
            .Where(e => e.Target == $"member:{member.Uid}" && e.Action == "member.export-data").ToListAsync()));
    }

    [Fact]
    public async Task Export_IsOneSnapshot_ALogoutCommittedBetweenItsReads_IsWhollyInOrWhollyOut()
    {
        // The export reads the sessions, then (among others) the address books, then the app tokens. A logout committed
        // while it waits at the address books must not leave the ended session listed with its app's tokens gone.
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var other = await TestMembers.AccessTokenAsync(Server, member, "shop24h");
        var verify = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData);
        await Client.SaveAddressBookAsync(new SaveAddressBookRequest { AccessToken = access, AddressBook = new() { FullName = "Lin Mei", Address = "12 Harbour Road, Keelung" } });

        string json;
        bool held;
        await using (var gate = await ReadGate.CloseAsync(fixture.Database, "address_books"))
        {
            var export = Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = verify }).ResponseAsync;
            held = await LockWaits.UntilAsync(fixture.Database, 1, export);
            Assert.Equal(gate.Holds, held);
            await Client.LogoutAsync(new LogoutRequest { PanAccessToken = other });
            await gate.OpenAsync();
            json = (await export).Json;
        }

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var sessions = root.GetProperty("sessions_total").GetInt32();
        var shop = root.GetProperty("app_tokens").EnumerateArray().Any(t => t.GetProperty("app_id").GetString() == "shop24h");
        // Before the logout or after it, never half of each (SQLite: the logout waits for the export's write lock, or
        // commits before it starts; PostgreSQL: the export waited at the gate after it had read the sessions).
        Assert.True(held ? (sessions, shop) == (2, true) : (sessions, shop) is (2, true) or (1, false), $"sessions_total {sessions}, shop24h tokens {shop}");
        Assert.Equal(sessions, root.GetProperty("sessions").GetArrayLength());
        // Read after the logout, the export shows it whole.
        Server.Clock.Advance(TimeSpan.FromMinutes(11));
        using var after = JsonDocument.Parse((await Client.ExportMyDataAsync(new ExportMyDataRequest
        {
            AccessToken = access, VerifyToken = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData),
        })).Json);
        Assert.Equal(1, after.RootElement.GetProperty("sessions_total").GetInt32());
        Assert.DoesNotContain(after.RootElement.GetProperty("app_tokens").EnumerateArray(), t => t.GetProperty("app_id").GetString() == "shop24h");
    }

    [Fact]
    public async Task Export_WaitingForAChangeToTheMembersRow_RunsAgainOnItsSnapshotConflict_AndShowsTheChange()
    {
        // On PostgreSQL the export's snapshot is older than a change of the member's row committed while it waits for
        // that row: taking the row then fails (40001), and the export runs again from a new snapshot.
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var verify = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData);
        var renamed = TestMembers.UniqueName("renamed");

        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Pan.Data.PanDbContext>();
        var change = await db.Database.BeginTransactionAsync();
        await db.Members.Where(m => m.Uid == member.Uid).ExecuteUpdateAsync(u => u.SetProperty(m => m.DisplayName, renamed));
        var export = Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = access, VerifyToken = verify }).ResponseAsync;
        await LockWaits.UntilAsync(fixture.Database, 1, export);
        await change.CommitAsync();
        await change.DisposeAsync();

        using var doc = JsonDocument.Parse((await export).Json);
        Assert.Equal(renamed, doc.RootElement.GetProperty("member").GetProperty("display_name").GetString());
        Assert.False(await TestMembers.WithDbAsync(Server, d => d.Set<StoredVerifyToken>().AnyAsync(t => t.Uid == member.Uid && t.UsedAt == null)));
    }

    [Fact]
    public async Task Export_OverHttpJson_AnswersTheDocument_AndNamesAMissingField()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var verify = await VerifyTokenAsync(member.Uid, VerifyPurposes.ExportData);

        using var response = await Server.Http.PostAsync("/v2/member/export-my-data",
            new StringContent(JsonSerializer.Serialize(new { accessToken = access, verifyToken = verify }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("application/json; charset=utf-8", body.GetProperty("contentType").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("generatedAt").GetString()));
        using var doc = JsonDocument.Parse(body.GetProperty("json").GetString()!);
        Assert.Equal(member.Uid, doc.RootElement.GetProperty("member").GetProperty("uid").GetInt64());

        using var bad = await Server.Http.PostAsync("/v2/member/export-my-data",
            new StringContent(JsonSerializer.Serialize(new { accessToken = access }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("verify_token", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Stores a real password and security answer hash for <paramref name="uid"/> ("First pet?").</summary>
    private async Task SetPasswordAsync(long uid)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var hasher = scope.ServiceProvider.GetRequiredService<PasswordHasher>();
        var password = await hasher.HashAsync(Password, default);
        var answer = await hasher.HashAsync(SecurityQuestions.NormalizeAnswer(Answer), default);
        var now = Server.Clock.GetUtcNow();
        await TestMembers.WithDbAsync(Server, async db =>
        {
            db.Add(new MemberCredential
            {
                Uid = uid, PasswordHash = password, PasswordChanged = now, SecurityQuestion = "First pet?", SecurityAnswerHash = answer, SecurityQuestionChanged = now,
            });
            return await db.SaveChangesAsync();
        });
    }

    /// <summary>Every hash Pan stores for the member, as text and in the hex and base64 forms a byte array could take.</summary>
    private async Task<List<string>> StoredSecretsAsync(long uid)
    {
        var credential = await TestMembers.WithDbAsync(Server, db => db.Set<MemberCredential>().AsNoTracking().SingleAsync(c => c.Uid == uid));
        var hashes = new List<byte[]>();
        hashes.AddRange(await TestMembers.WithDbAsync(Server, db => db.Set<StoredAccessToken>().Where(t => t.Uid == uid).Select(t => t.Hash).ToListAsync()));
        hashes.AddRange(await TestMembers.WithDbAsync(Server, db => db.Set<StoredVerifyToken>().Where(t => t.Uid == uid).Select(t => t.Hash).ToListAsync()));
        hashes.AddRange(await TestMembers.WithDbAsync(Server, db => db.Set<PhaseSession>().Where(s => s.Uid == uid).Select(s => s.TokenHash).ToListAsync()));
        hashes.AddRange((await TestMembers.WithDbAsync(Server, db => db.Set<PhaseSession>().Where(s => s.Uid == uid && s.CodeHash != null).Select(s => s.CodeHash).ToListAsync()))!);
        Assert.NotEmpty(hashes);
        var secrets = new List<string> { credential.PasswordHash!, credential.SecurityAnswerHash! };
        foreach (var hash in hashes)
        {
            secrets.Add(Convert.ToHexString(hash));
            secrets.Add(Convert.ToBase64String(hash));
            secrets.Add(Convert.ToBase64String(hash).TrimEnd('=').Replace('+', '-').Replace('/', '_'));
        }

        return secrets;
    }

    private async Task<string> VerifyTokenAsync(long uid, string purpose)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(uid, purpose, default)).Token;
    }
}

public sealed class DataExportBehaviour_Sqlite(SqliteExtrasFixture f) : DataExportBehaviour<SqliteExtrasFixture>(f);

public sealed class DataExportBehaviour_Postgres(PostgresExtrasFixture f) : DataExportBehaviour<PostgresExtrasFixture>(f);
