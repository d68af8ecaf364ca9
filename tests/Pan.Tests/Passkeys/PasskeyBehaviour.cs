using System.Net;
using System.Text.Json;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Audit;
using Pan.Data.Members;
using Pan.Data.Omniauth;
using Pan.Data.Passkeys;
using Pan.General.Member;
using Pan.Server.Network;
using Pan.Server.Sms;
using Pan.Server.Tokens;
using Pan.Tests.Deletion;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using PhoneFlow = Pan.Tests.PhoneFlows.Phones;

namespace Pan.Tests.Passkeys;

/// <summary>
/// Passkeys (a Pan extension): adding one behind an "add-passkey" step-up, signing in with it (a member-bound
/// auth-by-passkey session), listing and deleting them, and every refusal of a sign-in: wrong origin or RP ID, a spent
/// or replayed ceremony, a counter that went back, a deleted passkey, a suspended member. Responses come from a software
/// authenticator (ES256, attestation "none").
/// </summary>
public abstract class PasskeyBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : PasskeyFixture
{
    private const string CredentialRefused = "FinishPasskeySignInResponse.Error.CredentialRefused";
    private const string SignInInvalid = "FinishPasskeySignInResponse.Error.SignInInvalid";
    private const string TooManyAttempts = "FinishPasskeySignInResponse.Error.TooManyAttempts";
    private const string DefaultName = "Passkey";

    private readonly SoftwareAuthenticator authenticator = new(PasskeyFixture.RpId, PasskeyFixture.Origin);

    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    private MemberServiceV2.MemberServiceV2Client OtherNode => new(fixture.Scanner.Grpc);

    [Fact]
    public async Task RegisterThenSignIn_OpensAPasskeySession_ThatMeAndListSessionsShow()
    {
        var (member, access) = await NewMemberAsync();

        var begun = await Client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = access, VerifyToken = await VerifyTokenAsync(member.Uid) });
        using (var creation = JsonDocument.Parse(begun.OptionsJson))
        {
            var root = creation.RootElement;
            Assert.Equal(PasskeyFixture.RpId, root.GetProperty("rp").GetProperty("id").GetString());
            Assert.Equal("required", root.GetProperty("authenticatorSelection").GetProperty("residentKey").GetString());
            Assert.Equal("required", root.GetProperty("authenticatorSelection").GetProperty("userVerification").GetString());
            Assert.Equal("none", root.GetProperty("attestation").GetString());
            Assert.Equal(member.DisplayName, root.GetProperty("user").GetProperty("name").GetString());
            Assert.Equal(member.DisplayName, root.GetProperty("user").GetProperty("displayName").GetString());
            var handle = Convert.FromBase64String(Base64(root.GetProperty("user").GetProperty("id").GetString()!));
            var stored = await TestMembers.WithDbAsync(Server, db => db.Set<PasskeyUser>().AsNoTracking().SingleAsync(u => u.Uid == member.Uid));
            Assert.Equal(stored.UserHandle, handle);
            Assert.Equal(32, handle.Length);
        }

        var (credential, json) = authenticator.Create(begun.OptionsJson);
        var added = await Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest
        {
            AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = json, Name = "  Work laptop ",
        });
        Assert.Equal(credential.IdText, added.PasskeyId);
        var listed = Assert.Single((await Client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = access })).Passkeys);
        Assert.Equal(("Work laptop", SoftwareAuthenticator.Aaguid.ToString()), (listed.Name, listed.Aaguid));
        Assert.Equal(Server.Clock.GetUtcNow().ToUnixTimeSeconds(), listed.Created.Seconds);
        Assert.Null(listed.LastUsed);

        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        using (var request = JsonDocument.Parse(signIn.OptionsJson))
        {
            Assert.Equal(PasskeyFixture.RpId, request.RootElement.GetProperty("rpId").GetString());
            Assert.Equal("required", request.RootElement.GetProperty("userVerification").GetString());
            Assert.True(!request.RootElement.TryGetProperty("allowCredentials", out var allowed) || allowed.GetArrayLength() == 0);
        }

        var signedIn = await Client.FinishPasskeySignInAsync(new FinishPasskeySignInRequest { SignInId = signIn.SignInId, CredentialJson = authenticator.Get(signIn.OptionsJson, credential) });
        var newAccess = await TestMembers.AccessTokenAsync(Server, signedIn.AuthToken, null);
        var me = (await Client.MeAsync(new MeRequest { AccessToken = newAccess })).User;
        Assert.Equal(member.Uid, me.Uid);
        var session = Assert.Single((await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = newAccess })).Sessions, s => s.Current);
        Assert.Equal("auth-by-passkey", session.AuthMethod);
        Assert.Equal(Server.Clock.GetUtcNow().ToUnixTimeSeconds(),
            Assert.Single((await Client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = access })).Passkeys).LastUsed.Seconds);
        var audit = await AuditAsync(member.Uid);
        Assert.Contains(audit, e => e is { Action: "passkey.add", Outcome: "ok" });
    }

    [Fact]
    public async Task Registration_NeedsAnAddPasskeyStepUp_ThatItSpends()
    {
        var phones = new PhoneFlow(Client, fixture.Inbox);
        var (auth, e164) = await phones.RegisterAsync();
        var access = await phones.AccessTokenAsync(auth);
        var uid = (await Client.MeAsync(new MeRequest { AccessToken = access })).User.Uid;

        var missing = await Assert.ThrowsAsync<RpcException>(() => Client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = access }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, missing.StatusCode);
        Assert.Equal("verify_token", Assert.Single(missing.BadRequest()!.FieldViolations).Field);
        await Errors.ExpectAsync(
            async () => await Client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = access, VerifyToken = await VerifyTokenAsync(uid, VerifyPurposes.ExportData) }),
            StatusCode.PermissionDenied, "BeginPasskeyRegistrationResponse.Error.VerifyTokenInvalid");

        // The documented step-up: SMS for "add-passkey", then the registration, which spends it.
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "add-passkey" });
        var code = await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 2);
        var verify = (await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = "add-passkey", Code = code })).VerifyToken;
        var begun = await Client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = access, VerifyToken = verify });
        await Errors.ExpectAsync(() => Client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = access, VerifyToken = verify }).ResponseAsync,
            StatusCode.PermissionDenied, "BeginPasskeyRegistrationResponse.Error.VerifyTokenInvalid");

        var (credential, json) = authenticator.Create(begun.OptionsJson);
        await Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest { AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = json });
        var again = await Client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = access, VerifyToken = await VerifyTokenAsync(uid) });
        using var options = JsonDocument.Parse(again.OptionsJson);
        var excluded = Assert.Single(options.RootElement.GetProperty("excludeCredentials").EnumerateArray());
        Assert.Equal(credential.IdText, excluded.GetProperty("id").GetString());
        Assert.DoesNotContain(e164.TrimStart('+'), again.OptionsJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResponseFromAWrongOrigin_OrForAnotherRpId_IsRefused_AndSpendsTheCeremony()
    {
        var (member, access) = await NewMemberAsync();
        var begun = await BeginRegistrationAsync(member.Uid, access);
        await Errors.ExpectAsync(() => Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest
            {
                AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = authenticator.Create(begun.OptionsJson, fromOrigin: "https://evil.example").Json,
            }).ResponseAsync,
            StatusCode.PermissionDenied, "FinishPasskeyRegistrationResponse.Error.CredentialRefused");
        await Errors.ExpectAsync(() => Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest
            {
                AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = authenticator.Create(begun.OptionsJson).Json,
            }).ResponseAsync,
            StatusCode.FailedPrecondition, "FinishPasskeyRegistrationResponse.Error.RegistrationInvalid");

        var credential = await RegisterAsync(member.Uid, access);
        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        await Errors.ExpectAsync(() => FinishAsync(signIn, authenticator.Get(signIn.OptionsJson, credential, fromOrigin: "https://pan.example.test.evil.example")),
            StatusCode.PermissionDenied, CredentialRefused);
        await Errors.ExpectAsync(() => FinishAsync(signIn, authenticator.Get(signIn.OptionsJson, credential)), StatusCode.FailedPrecondition, SignInInvalid);

        var other = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        await Errors.ExpectAsync(() => FinishAsync(other, authenticator.Get(other.OptionsJson, credential, forRpId: "example.test")),
            StatusCode.PermissionDenied, CredentialRefused);
        Assert.Empty(await SessionsAsync(member.Uid, AuthMethods.Passkey));
    }

    [Fact]
    public async Task ASignIn_IsSingleUse_OfTenParallelFinishesOneWins_AndAReplayIsRefused()
    {
        var (member, access) = await NewMemberAsync();
        var credential = await RegisterAsync(member.Uid, access);
        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        var answers = Enumerable.Range(0, 10).Select(_ => authenticator.Get(signIn.OptionsJson, credential)).ToList();

        var outcomes = await Task.WhenAll(answers.Select((a, i) => Errors.ReasonOfAsync(() => (i % 2 == 0 ? Client : OtherNode)
            .FinishPasskeySignInAsync(new FinishPasskeySignInRequest { SignInId = signIn.SignInId, CredentialJson = a }).ResponseAsync)));

        Assert.Single(outcomes, o => o is null);
        Assert.All(outcomes.Where(o => o is not null), o => Assert.Equal(SignInInvalid, o));
        Assert.Single(await SessionsAsync(member.Uid, AuthMethods.Passkey));
        await Errors.ExpectAsync(() => FinishAsync(signIn, answers[0]), StatusCode.FailedPrecondition, SignInInvalid);
    }

    [Fact]
    public async Task ARegistration_IsSingleUse_OfTenParallelFinishesOneWins()
    {
        var (member, access) = await NewMemberAsync();
        var begun = await BeginRegistrationAsync(member.Uid, access);
        var answers = Enumerable.Range(0, 10).Select(_ => authenticator.Create(begun.OptionsJson).Json).ToList();

        var outcomes = await Task.WhenAll(answers.Select((a, i) => Errors.ReasonOfAsync(() => (i % 2 == 0 ? Client : OtherNode)
            .FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest { AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = a }).ResponseAsync)));

        Assert.Single(outcomes, o => o is null);
        Assert.All(outcomes.Where(o => o is not null), o => Assert.Equal("FinishPasskeyRegistrationResponse.Error.RegistrationInvalid", o));
        Assert.Single((await Client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = access })).Passkeys);
    }

    /// <summary>
    /// The last free place is taken once: registrations begun while the member held one passkey fewer than
    /// Pan:Passkeys:MaxPerMember (10 here), finished together on two nodes, store one passkey; the rest are TooManyPasskeys.
    /// </summary>
    [Fact]
    public async Task ParallelFinishes_ForTheLastFreePlace_StoreOnePasskey()
    {
        var (member, access) = await NewMemberAsync();
        for (var i = 0; i < 9; i++)
        {
            await RegisterAsync(member.Uid, access);
        }

        var begun = new List<BeginPasskeyRegistrationResponse>();
        for (var i = 0; i < 4; i++)
        {
            begun.Add(await BeginRegistrationAsync(member.Uid, access));
        }

        var outcomes = await Task.WhenAll(begun.Select((b, i) => Errors.ReasonOfAsync(() => (i % 2 == 0 ? Client : OtherNode)
            .FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest
            {
                AccessToken = access, RegistrationId = b.RegistrationId, CredentialJson = authenticator.Create(b.OptionsJson).Json,
            }).ResponseAsync)));

        Assert.Single(outcomes, o => o is null);
        Assert.All(outcomes.Where(o => o is not null), o => Assert.Equal("FinishPasskeyRegistrationResponse.Error.TooManyPasskeys", o));
        Assert.Equal(10, (await Client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = access })).Passkeys.Count);
    }

    [Fact]
    public async Task ACeremonyBegunOnOneNode_IsFinishedOnAnother()
    {
        var (member, access) = await NewMemberAsync();
        var begun = await BeginRegistrationAsync(member.Uid, access);
        var (credential, json) = authenticator.Create(begun.OptionsJson);
        await OtherNode.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest { AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = json });

        var signIn = await OtherNode.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        var signedIn = await FinishAsync(signIn, authenticator.Get(signIn.OptionsJson, credential));

        Assert.False(string.IsNullOrEmpty(signedIn.AuthToken));
        Assert.Single(await SessionsAsync(member.Uid, AuthMethods.Passkey));
    }

    [Fact]
    public async Task ASignatureCounterThatWentBack_IsRefused_AndAudited()
    {
        var (member, access) = await NewMemberAsync();
        var credential = await RegisterAsync(member.Uid, access);
        await SignInAsync(credential, counter: 5);

        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        await Errors.ExpectAsync(() => FinishAsync(signIn, authenticator.Get(signIn.OptionsJson, credential, counter: 3)), StatusCode.PermissionDenied, CredentialRefused);

        Assert.Single(await SessionsAsync(member.Uid, AuthMethods.Passkey));
        Assert.Contains(await AuditAsync(member.Uid), e => e is { Action: "passkey.sign-in", Outcome: "denied: the signature counter went back (possible clone)" });
        await SignInAsync(credential, counter: 6);
    }

    [Fact]
    public async Task ADeletedPasskey_IsRefused_AndAnotherMembersPasskeyIsNotFound()
    {
        var (member, access) = await NewMemberAsync();
        var credential = await RegisterAsync(member.Uid, access);
        var (_, strangerAccess) = await NewMemberAsync();

        await Errors.ExpectAsync(() => Client.DeletePasskeyAsync(new DeletePasskeyRequest { AccessToken = strangerAccess, PasskeyId = credential.IdText }).ResponseAsync,
            StatusCode.NotFound, "DeletePasskeyResponse.Error.PasskeyNotFound");
        Assert.Single((await Client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = access })).Passkeys);
        await SignInAsync(credential);

        await Client.DeletePasskeyAsync(new DeletePasskeyRequest { AccessToken = access, PasskeyId = credential.IdText });
        Assert.Empty((await Client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = access })).Passkeys);
        Assert.Contains(await AuditAsync(member.Uid), e => e is { Action: "passkey.delete", Outcome: "ok" });
        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        await Errors.ExpectAsync(() => FinishAsync(signIn, authenticator.Get(signIn.OptionsJson, credential)), StatusCode.PermissionDenied, CredentialRefused);
        await Errors.ExpectAsync(() => Client.DeletePasskeyAsync(new DeletePasskeyRequest { AccessToken = access, PasskeyId = credential.IdText }).ResponseAsync,
            StatusCode.NotFound, "DeletePasskeyResponse.Error.PasskeyNotFound");
    }

    [Fact]
    public async Task RenamePasskey_RenamesTheCallersPasskey_AndAnswersItAsListPasskeysShowsIt()
    {
        var (member, access) = await NewMemberAsync();
        var credential = await RegisterAsync(member.Uid, access);
        var other = await RegisterAsync(member.Uid, access);

        var renamed = (await Client.RenamePasskeyAsync(new RenamePasskeyRequest { AccessToken = access, PasskeyId = credential.IdText, Name = "  Work phone " })).Passkey;

        var listed = (await Client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = access })).Passkeys;
        Assert.Equal(listed.Single(p => p.PasskeyId == credential.IdText), renamed);
        Assert.Equal("Work phone", renamed.Name);
        Assert.Equal(DefaultName, listed.Single(p => p.PasskeyId == other.IdText).Name);
        Assert.Contains(await AuditAsync(member.Uid), e => e is { Action: "passkey.rename", Outcome: "ok" });

        // The registration's rules: an empty name is the default one.
        Assert.Equal(DefaultName, (await OtherNode.RenamePasskeyAsync(new RenamePasskeyRequest { AccessToken = access, PasskeyId = credential.IdText })).Passkey.Name);
    }

    [Fact]
    public async Task RenamePasskey_WithABadNameOrId_IsInvalidArgumentNamingIt_AndRenamesNothing()
    {
        var (member, access) = await NewMemberAsync();
        var credential = await RegisterAsync(member.Uid, access);
        await Client.RenamePasskeyAsync(new RenamePasskeyRequest { AccessToken = access, PasskeyId = credential.IdText, Name = "Laptop" });

        foreach (var (passkeyId, name, field) in new[]
                 {
                     (credential.IdText, new string('n', 65), "name"), (credential.IdText, "Lap\u0007top", "name"),
                     ("", "Phone", "passkey_id"), ("not/a*passkey", "Phone", "passkey_id"),
                 })
        {
            var ex = await Assert.ThrowsAsync<RpcException>(() => Client.RenamePasskeyAsync(new RenamePasskeyRequest { AccessToken = access, PasskeyId = passkeyId, Name = name }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
            Assert.Equal(field, Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        }

        Assert.Equal(new string('n', 64), (await Client.RenamePasskeyAsync(new RenamePasskeyRequest { AccessToken = access, PasskeyId = credential.IdText, Name = new string('n', 64) })).Passkey.Name);
    }

    /// <summary>Another member's passkey id answers exactly as an unknown or deleted one, and keeps its name.</summary>
    [Fact]
    public async Task RenamePasskey_OfAnotherMembersPasskey_AnswersAsAnUnknownOne()
    {
        var (owner, ownerAccess) = await NewMemberAsync();
        var credential = await RegisterAsync(owner.Uid, ownerAccess);
        await Client.RenamePasskeyAsync(new RenamePasskeyRequest { AccessToken = ownerAccess, PasskeyId = credential.IdText, Name = "Owner's" });
        var (stranger, strangerAccess) = await NewMemberAsync();
        var own = await RegisterAsync(stranger.Uid, strangerAccess);
        await Client.DeletePasskeyAsync(new DeletePasskeyRequest { AccessToken = strangerAccess, PasskeyId = own.IdText });

        var answers = new List<(StatusCode, string, string?)>();
        foreach (var passkeyId in new[] { credential.IdText, own.IdText, System.Buffers.Text.Base64Url.EncodeToString(new byte[32]) })
        {
            var ex = await Errors.ExpectAsync(() => Client.RenamePasskeyAsync(new RenamePasskeyRequest { AccessToken = strangerAccess, PasskeyId = passkeyId, Name = "Mine" }).ResponseAsync,
                StatusCode.NotFound, "RenamePasskeyResponse.Error.PasskeyNotFound");
            answers.Add((ex.StatusCode, ex.Status.Detail, ex.Info().Reason));
        }

        Assert.Single(answers.Distinct());
        Assert.Equal("Owner's", Assert.Single((await Client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = ownerAccess })).Passkeys).Name);
        Assert.DoesNotContain(await AuditAsync(stranger.Uid), e => e.Action == "passkey.rename");
    }

    [Fact]
    public async Task RenamePasskey_WithADeletedMembersToken_IsTokenInvalid()
    {
        var (member, access) = await NewMemberAsync();
        var credential = await RegisterAsync(member.Uid, access);
        await using (var deletion = await UncommittedDeletion.StartAsync(Server, fixture.Database, member.Uid))
        {
            await deletion.CommitAsync();
        }

        foreach (var client in new[] { Client, OtherNode })
        {
            await Errors.ExpectAsync(() => client.RenamePasskeyAsync(new RenamePasskeyRequest { AccessToken = access, PasskeyId = credential.IdText, Name = "Gone" }).ResponseAsync,
                StatusCode.Unauthenticated, "RenamePasskeyResponse.Error.TokenInvalid");
        }
    }

    [Fact]
    public async Task ASuspendedMember_IsRefusedAsLoginRefusesIt()
    {
        var (member, access) = await NewMemberAsync();
        var credential = await RegisterAsync(member.Uid, access);
        await TestMembers.UpdateAsync(Server, member.Uid, m => m.SuspendedUntil = Server.Clock.GetUtcNow().AddDays(3));

        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        await Errors.ExpectAsync(() => FinishAsync(signIn, authenticator.Get(signIn.OptionsJson, credential)), StatusCode.PermissionDenied, "MEMBER_SUSPENDED");

        Assert.Empty(await SessionsAsync(member.Uid, AuthMethods.Passkey));
    }

    /// <summary>
    /// One credential id is one member's: another member (or the same one again, ignoring excludeCredentials) who
    /// registers it is AlreadyRegistered and stores nothing; an assertion of a passkey carrying another member's user
    /// handle, or none, is refused and opens no session.
    /// </summary>
    [Fact]
    public async Task ACredentialIdTakenOrAnotherMembersUserHandle_IsRefused()
    {
        var (owner, ownerAccess) = await NewMemberAsync();
        var credential = await RegisterAsync(owner.Uid, ownerAccess);
        var (other, otherAccess) = await NewMemberAsync();
        var otherCredential = await RegisterAsync(other.Uid, otherAccess);

        foreach (var (uid, access) in new[] { (other.Uid, otherAccess), (owner.Uid, ownerAccess) })
        {
            var begun = await BeginRegistrationAsync(uid, access);
            await Errors.ExpectAsync(() => Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest
                {
                    AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = authenticator.Create(begun.OptionsJson, credentialId: credential.Id).Json,
                }).ResponseAsync,
                StatusCode.FailedPrecondition, "FinishPasskeyRegistrationResponse.Error.AlreadyRegistered");
        }

        Assert.Equal(new[] { credential.IdText }, (await Client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = ownerAccess })).Passkeys.Select(p => p.PasskeyId));
        Assert.Equal(new[] { otherCredential.IdText }, (await Client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = otherAccess })).Passkeys.Select(p => p.PasskeyId));

        // Why no using: they share the owner's key, which the last sign-in below still needs.
        var withOthersHandle = new SoftwareAuthenticator.Credential(credential.Id, credential.Key, otherCredential.UserHandle) { Counter = 10 };
        var withoutHandle = new SoftwareAuthenticator.Credential(credential.Id, credential.Key, []) { Counter = 11 };
        foreach (var forged in new[] { withOthersHandle, withoutHandle })
        {
            var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
            await Errors.ExpectAsync(() => FinishAsync(signIn, authenticator.Get(signIn.OptionsJson, forged)), StatusCode.PermissionDenied, CredentialRefused);
        }

        Assert.Empty(await SessionsAsync(owner.Uid, AuthMethods.Passkey));
        Assert.Empty(await SessionsAsync(other.Uid, AuthMethods.Passkey));
        await SignInAsync(credential, counter: 12);
    }

    /// <summary>
    /// A member deleted while its passkey registration finishes keeps no passkey: on PostgreSQL the deletion runs while the
    /// finish waits just before storing the passkey and commits as soon as it can; either it waits for the finish and then
    /// erases the passkey, or the finish stores nothing. SQLite runs one writer at a time: there the finish ends before
    /// the deletion starts.
    /// </summary>
    [Fact]
    public async Task AMemberDeletedWhileItsRegistrationFinishes_KeepsNoPasskey()
    {
        var (member, access) = await NewMemberAsync();
        var begun = await BeginRegistrationAsync(member.Uid, access);
        var json = authenticator.Create(begun.OptionsJson).Json;

        await DeletionRaces.DeletionWhileTheRowIsHeldAsync(Server, fixture.Database, member.Uid, "member_passkeys", () =>
            Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest { AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = json }).ResponseAsync);

        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<MemberPasskey>().CountAsync(p => p.Uid == member.Uid)));
    }

    /// <summary>
    /// A member deleted while its passkey registration begins keeps no user handle and no begun registration (as
    /// <see cref="AMemberDeletedWhileItsRegistrationFinishes_KeepsNoPasskey"/>, with the deletion run just before the
    /// begun registration is stored).
    /// </summary>
    [Fact]
    public async Task AMemberDeletedWhileItsRegistrationBegins_KeepsNoUserHandleOrCeremony()
    {
        var (member, access) = await NewMemberAsync();
        var verify = await VerifyTokenAsync(member.Uid);

        await DeletionRaces.DeletionWhileTheRowIsHeldAsync(Server, fixture.Database, member.Uid, "passkey_challenges", () =>
            Client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = access, VerifyToken = verify }).ResponseAsync);

        Assert.Equal((0, 0), await TestMembers.WithDbAsync(Server, async db => (
            await db.Set<PasskeyUser>().CountAsync(u => u.Uid == member.Uid),
            await db.Set<PasskeyChallenge>().CountAsync(c => c.Uid == member.Uid))));
    }

    /// <summary>
    /// A member deleted while its passkey registration begins is answered as a deleted member: on PostgreSQL the deletion
    /// runs while the begin waits just before spending its verify token (a token the deletion erases), then commits as
    /// soon as it can; either the begin came first, and the deletion erases its user handle and begun registration, or
    /// the begin is TokenInvalid (UNAUTHENTICATED), as the finish is, never a refused verify token that sends the member to
    /// step up again. SQLite runs one writer at a time: there the begin ends before the deletion starts.
    /// </summary>
    [Fact]
    public async Task AMemberDeletedAsItsRegistrationSpendsTheVerifyToken_IsTokenInvalid_OrKeepsNothing()
    {
        var (member, access) = await NewMemberAsync();
        var verify = await VerifyTokenAsync(member.Uid);

        var status = await DeletionRaces.DeletionWhileTheRowIsHeldAsync(Server, fixture.Database, member.Uid, "verify_tokens", () =>
            Client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = access, VerifyToken = verify }).ResponseAsync,
            TriggeredWrite.Update);

        Assert.Contains(status, new[] { StatusCode.OK, StatusCode.Unauthenticated });
        Assert.Equal((0, 0), await TestMembers.WithDbAsync(Server, async db => (
            await db.Set<PasskeyUser>().CountAsync(u => u.Uid == member.Uid),
            await db.Set<PasskeyChallenge>().CountAsync(c => c.Uid == member.Uid))));
    }

    /// <summary>
    /// A registration finishing while the member's suspension is uncommitted stores no passkey: on PostgreSQL the finish
    /// has checked its access token and waits for the suspension at the member's row, then finds the member suspended
    /// (MEMBER_SUSPENDED, as a sign-in racing a suspension is refused). SQLite runs one writer at a time: there the
    /// finish meets the committed suspension, at its access token (TokenInvalid) or in its transaction (MEMBER_SUSPENDED).
    /// </summary>
    [Fact]
    public async Task ARegistrationFinishing_WhileTheMembersSuspensionIsUncommitted_StoresNoPasskey()
    {
        var (member, access) = await NewMemberAsync();
        var begun = await BeginRegistrationAsync(member.Uid, access);
        var json = authenticator.Create(begun.OptionsJson).Json;

        Task call;
        await using (var suspension = await Pan.Tests.Admin.UncommittedSuspension.StartAsync(Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest { AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = json }).ResponseAsync);
            Assert.True(await suspension.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await suspension.CommitAsync();
        }

        var reason = await Errors.ReasonOfAsync(() => call);
        if (fixture.Database.Provider == "postgres")
        {
            Assert.Equal("MEMBER_SUSPENDED", reason);
        }
        else
        {
            Assert.Contains(reason, new[] { "MEMBER_SUSPENDED", "FinishPasskeyRegistrationResponse.Error.TokenInvalid" });
        }

        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<MemberPasskey>().CountAsync(p => p.Uid == member.Uid)));
    }

    /// <summary>
    /// A registration begun under a session that a password change (made from another session) ends is not finished
    /// when the change commits while the finish runs: on PostgreSQL the finish waits for the change at the member's row
    /// and then finds its session ended (TokenInvalid, the answer for any ended session), storing nothing; on SQLite it
    /// meets the committed change at its access token.
    /// </summary>
    [Fact]
    public async Task ARegistrationFinishing_WhileAPasswordChangeEndingItsSessionIsUncommitted_StoresNoPasskey()
    {
        var (member, access) = await NewMemberAsync();
        var other = await TestMembers.AccessTokenAsync(Server, member);
        var keep = await SessionOfAsync(other);
        var begun = await BeginRegistrationAsync(member.Uid, access);
        var json = authenticator.Create(begun.OptionsJson).Json;

        Task call;
        await using (var change = await Pan.Tests.Credentials.UncommittedPasswordChange.StartAsync(Server, fixture.Database, member.Uid, "a new Passw0rd of the member!", keep))
        {
            call = Task.Run(() => Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest { AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = json }).ResponseAsync);
            Assert.True(await change.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await change.CommitAsync();
        }

        await Errors.ExpectAsync(() => call, StatusCode.Unauthenticated, "FinishPasskeyRegistrationResponse.Error.TokenInvalid");
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<MemberPasskey>().CountAsync(p => p.Uid == member.Uid)));
        Assert.Empty((await Client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = other })).Passkeys);
    }

    [Fact]
    public async Task BadCredentialJson_IsInvalidArgumentNamingTheField_AndSpendsNothing()
    {
        var (member, access) = await NewMemberAsync();
        var begun = await BeginRegistrationAsync(member.Uid, access);
        foreach (var bad in new[] { "{not json", "{}", "[]", """{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"AAAA"}}""" })
        {
            var ex = await Assert.ThrowsAsync<RpcException>(() => Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest
            {
                AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = bad,
            }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
            Assert.Equal("credential_json", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        }

        var (credential, json) = authenticator.Create(begun.OptionsJson);
        await Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest { AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = json });

        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        var garbled = authenticator.Get(signIn.OptionsJson, credential).Replace("\"signature\":\"", "\"signature\":\"*", StringComparison.Ordinal);
        foreach (var bad in new[] { "", "{\"id\":", garbled })
        {
            var ex = await Assert.ThrowsAsync<RpcException>(() => FinishAsync(signIn, bad));
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
            Assert.Equal("credential_json", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        }

        await FinishAsync(signIn, authenticator.Get(signIn.OptionsJson, credential));
    }

    [Fact]
    public async Task FailedSignInsPastTheHourlyLimit_AreRefusedBeforeTheSignInIsSpent()
    {
        var (member, access) = await NewMemberAsync();
        var credential = await RegisterAsync(member.Uid, access);
        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        var scope = "passkey-failure:" + SmsKeys.Ip(IPAddress.Loopback);
        var window = Server.Clock.GetUtcNow().ToUnixTimeMilliseconds() / (long)RateCounters.Window.TotalMilliseconds * (long)RateCounters.Window.TotalMilliseconds;
        var previous = await TestMembers.WithDbAsync(Server, db => db.Set<RateCounter>().AsNoTracking().FirstOrDefaultAsync(c => c.Scope == scope && c.WindowStart == window));
        await SetFailuresAsync(scope, window, PasskeyFixture.FailuresPerIpPerHour);
        try
        {
            var ex = await Errors.ExpectAsync(() => FinishAsync(signIn, authenticator.Get(signIn.OptionsJson, credential)),
                StatusCode.ResourceExhausted, "FinishPasskeySignInResponse.Error.TooManyAttempts");
            Assert.True(int.Parse(ex.Info().Metadata["retry_after_seconds"], System.Globalization.CultureInfo.InvariantCulture) > 0);
        }
        finally
        {
            await SetFailuresAsync(scope, window, previous?.Count ?? 0);
        }

        await FinishAsync(signIn, authenticator.Get(signIn.OptionsJson, credential));
    }

    /// <summary>
    /// Pan:Passkeys:FailuresPerIpPerHour holds under load: with the limit at N on a node, 3N failing finishes from one
    /// address, each of its own begun sign-in, run together: N are checked and refused (CredentialRefused), the rest are
    /// TooManyAttempts and spend nothing. A correct sign-in while under the limit signs in and counts no failure.
    /// </summary>
    [Fact]
    public async Task ParallelFailedSignIns_NeverPassTheHourlyLimit_AndACorrectOneCountsNoFailure()
    {
        const int limit = 4;
        var (member, access) = await NewMemberAsync();
        var credential = await RegisterAsync(member.Uid, access);
        var settings = new Dictionary<string, string?>(fixture.NodeSettings)
        {
            ["Pan:Passkeys:FailuresPerIpPerHour"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        await using var node = await fixture.StartNodeAsync(settings);
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var scope = "passkey-failure:" + SmsKeys.Ip(IPAddress.Loopback);
        var window = node.Clock.GetUtcNow().ToUnixTimeMilliseconds() / (long)RateCounters.Window.TotalMilliseconds * (long)RateCounters.Window.TotalMilliseconds;
        var previous = await TestMembers.WithDbAsync(Server, db => db.Set<RateCounter>().AsNoTracking().FirstOrDefaultAsync(c => c.Scope == scope && c.WindowStart == window));
        await SetFailuresAsync(scope, window, 0);
        try
        {
            var begun = new List<BeginPasskeySignInResponse>();
            for (var i = 0; i < 3 * limit; i++)
            {
                begun.Add(await client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest()));
            }

            var outcomes = await Task.WhenAll(begun.Select(b => Errors.ReasonOfAsync(() => client.FinishPasskeySignInAsync(new FinishPasskeySignInRequest
            {
                SignInId = b.SignInId, CredentialJson = authenticator.Get(b.OptionsJson, credential, fromOrigin: "https://evil.example"),
            }).ResponseAsync)));

            Assert.Equal((limit, 2 * limit), (outcomes.Count(o => o == CredentialRefused), outcomes.Count(o => o == TooManyAttempts)));

            // A sign-in refused for the rate was not spent: under the limit again, its correct answer signs in and is no failure.
            await SetFailuresAsync(scope, window, limit - 1);
            var kept = begun[Array.IndexOf(outcomes, TooManyAttempts)];
            await client.FinishPasskeySignInAsync(new FinishPasskeySignInRequest { SignInId = kept.SignInId, CredentialJson = authenticator.Get(kept.OptionsJson, credential) });
            Assert.Equal(limit - 1, await TestMembers.WithDbAsync(Server, db => db.Set<RateCounter>().Where(c => c.Scope == scope && c.WindowStart == window).Select(c => c.Count).SingleAsync()));

            var last = await client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
            await Errors.ExpectAsync(() => client.FinishPasskeySignInAsync(new FinishPasskeySignInRequest
                {
                    SignInId = last.SignInId, CredentialJson = authenticator.Get(last.OptionsJson, credential, fromOrigin: "https://evil.example"),
                }).ResponseAsync,
                StatusCode.PermissionDenied, CredentialRefused);
            var past = await client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
            await Errors.ExpectAsync(() => client.FinishPasskeySignInAsync(new FinishPasskeySignInRequest { SignInId = past.SignInId, CredentialJson = authenticator.Get(past.OptionsJson, credential) }).ResponseAsync,
                StatusCode.ResourceExhausted, TooManyAttempts);
        }
        finally
        {
            await SetFailuresAsync(scope, window, previous?.Count ?? 0);
        }
    }

    [Fact]
    public async Task ACeremonyPastItsFiveMinutes_IsRefused_AndTheJanitorSweepsIt()
    {
        var (member, access) = await NewMemberAsync();
        var credential = await RegisterAsync(member.Uid, access);
        var begun = await BeginRegistrationAsync(member.Uid, access);
        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        var hashes = new[] { OpaqueTokens.Hash(begun.RegistrationId)!, OpaqueTokens.Hash(signIn.SignInId)! };

        Server.Clock.Advance(TimeSpan.FromMinutes(5));

        await Errors.ExpectAsync(() => FinishAsync(signIn, authenticator.Get(signIn.OptionsJson, credential)), StatusCode.FailedPrecondition, SignInInvalid);
        await Errors.ExpectAsync(() => Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest
            {
                AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = authenticator.Create(begun.OptionsJson).Json,
            }).ResponseAsync,
            StatusCode.FailedPrecondition, "FinishPasskeyRegistrationResponse.Error.RegistrationInvalid");
        var live = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        Assert.Equal(2, await ChallengesAsync(hashes));

        await Server.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<TokenJanitor>().Single().SweepOnceAsync(default);

        Assert.Equal(0, await ChallengesAsync(hashes));
        Assert.Equal(1, await ChallengesAsync([OpaqueTokens.Hash(live.SignInId)!]));
    }

    /// <summary>
    /// Pan:Passkeys:UserVerification is "required" by default: a key that proves only its presence (no PIN or biometric)
    /// is refused at registration and at sign-in; with "preferred" the same key registers and signs in.
    /// </summary>
    [Fact]
    public async Task AKeyThatDoesNotVerifyItsUser_IsRefused_UnlessUserVerificationIsOnlyPreferred()
    {
        var presenceOnly = new SoftwareAuthenticator(PasskeyFixture.RpId, PasskeyFixture.Origin) { VerifiesUser = false };
        var (member, access) = await NewMemberAsync();
        var begun = await BeginRegistrationAsync(member.Uid, access);
        var (_, json) = presenceOnly.Create(begun.OptionsJson);
        await Errors.ExpectAsync(() => Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest
        {
            AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = json,
        }).ResponseAsync, StatusCode.PermissionDenied, "FinishPasskeyRegistrationResponse.Error.CredentialRefused");
        Assert.Empty((await Client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = access })).Passkeys);

        // A passkey registered with user verification, whose later sign-in comes without it (the key's PIN skipped).
        var verified = await RegisterAsync(member.Uid, access);
        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        var unverified = new SoftwareAuthenticator(PasskeyFixture.RpId, PasskeyFixture.Origin) { VerifiesUser = false };
        Assert.Equal(CredentialRefused, await Errors.ReasonOfAsync(() => FinishAsync(signIn, unverified.Get(signIn.OptionsJson, verified))));

        var settings = new Dictionary<string, string?>(fixture.NodeSettings) { ["Pan:Passkeys:UserVerification"] = "preferred" };
        await using var node = await fixture.StartNodeAsync(settings);
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var (other, otherAccess) = await NewMemberAsync();
        var again = await client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = otherAccess, VerifyToken = await VerifyTokenAsync(other.Uid) });
        using (var options = JsonDocument.Parse(again.OptionsJson))
        {
            Assert.Equal("preferred", options.RootElement.GetProperty("authenticatorSelection").GetProperty("userVerification").GetString());
        }

        var (credential, created) = presenceOnly.Create(again.OptionsJson);
        await client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest { AccessToken = otherAccess, RegistrationId = again.RegistrationId, CredentialJson = created });
        var preferredSignIn = await client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        var finished = await client.FinishPasskeySignInAsync(new FinishPasskeySignInRequest { SignInId = preferredSignIn.SignInId, CredentialJson = presenceOnly.Get(preferredSignIn.OptionsJson, credential) });
        Assert.False(string.IsNullOrEmpty(finished.AuthToken));
    }

    [Fact]
    public async Task WithoutPasskeySettings_EveryPasskeyRpcIsFailedPrecondition()
    {
        var settings = fixture.NodeSettings.Where(s => !s.Key.StartsWith("Pan:Passkeys:", StringComparison.Ordinal)).ToDictionary(s => s.Key, s => s.Value);
        await using var node = await fixture.StartNodeAsync(settings);
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var (_, access) = await NewMemberAsync();

        await Errors.ExpectAsync(() => client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = access, VerifyToken = "x" }).ResponseAsync,
            StatusCode.FailedPrecondition, "BeginPasskeyRegistrationResponse.Error.PasskeysOff");
        await Errors.ExpectAsync(() => client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest { AccessToken = access }).ResponseAsync,
            StatusCode.FailedPrecondition, "FinishPasskeyRegistrationResponse.Error.PasskeysOff");
        await Errors.ExpectAsync(() => client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest()).ResponseAsync,
            StatusCode.FailedPrecondition, "BeginPasskeySignInResponse.Error.PasskeysOff");
        await Errors.ExpectAsync(() => client.FinishPasskeySignInAsync(new FinishPasskeySignInRequest()).ResponseAsync,
            StatusCode.FailedPrecondition, "FinishPasskeySignInResponse.Error.PasskeysOff");
        await Errors.ExpectAsync(() => client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = access }).ResponseAsync,
            StatusCode.FailedPrecondition, "ListPasskeysResponse.Error.PasskeysOff");
        await Errors.ExpectAsync(() => client.DeletePasskeyAsync(new DeletePasskeyRequest { AccessToken = access, PasskeyId = "AAAA" }).ResponseAsync,
            StatusCode.FailedPrecondition, "DeletePasskeyResponse.Error.PasskeysOff");
        await Errors.ExpectAsync(() => client.RenamePasskeyAsync(new RenamePasskeyRequest { AccessToken = access, PasskeyId = "AAAA", Name = "x" }).ResponseAsync,
            StatusCode.FailedPrecondition, "RenamePasskeyResponse.Error.PasskeysOff");
    }

    private async Task<(Member Member, string Access)> NewMemberAsync()
    {
        var member = await TestMembers.CreateAsync(Server, m => m.DisplayName = TestMembers.UniqueName("pk"));
        return (member, await TestMembers.AccessTokenAsync(Server, member));
    }

    private async Task<string> VerifyTokenAsync(long uid, string purpose = VerifyPurposes.AddPasskey)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(uid, purpose, default)).Token;
    }

    private async Task<long> SessionOfAsync(string access)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<TokenService>().ValidateAccessTokenAsync(access, default))!.SessionId;
    }

    private async Task<BeginPasskeyRegistrationResponse> BeginRegistrationAsync(long uid, string access) =>
        await Client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = access, VerifyToken = await VerifyTokenAsync(uid) });

    private async Task<SoftwareAuthenticator.Credential> RegisterAsync(long uid, string access)
    {
        var begun = await BeginRegistrationAsync(uid, access);
        var (credential, json) = authenticator.Create(begun.OptionsJson);
        await Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest { AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = json });
        return credential;
    }

    private async Task<FinishPasskeySignInResponse> SignInAsync(SoftwareAuthenticator.Credential credential, uint? counter = null)
    {
        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        return await FinishAsync(signIn, authenticator.Get(signIn.OptionsJson, credential, counter: counter));
    }

    private async Task<FinishPasskeySignInResponse> FinishAsync(BeginPasskeySignInResponse signIn, string json) =>
        await Client.FinishPasskeySignInAsync(new FinishPasskeySignInRequest { SignInId = signIn.SignInId, CredentialJson = json });

    private Task<List<Pan.Data.Tokens.AuthSession>> SessionsAsync(long uid, string authMethod) =>
        TestMembers.WithDbAsync(Server, db => db.Set<Pan.Data.Tokens.AuthSession>().AsNoTracking().Where(s => s.Uid == uid && s.AuthMethod == authMethod).ToListAsync());

    private Task<int> ChallengesAsync(byte[][] hashes) =>
        TestMembers.WithDbAsync(Server, db => db.Set<PasskeyChallenge>().CountAsync(c => hashes.Contains(c.Hash)));

    private Task<List<AuditEntry>> AuditAsync(long uid) =>
        TestMembers.WithDbAsync(Server, db => db.Set<AuditEntry>().AsNoTracking().Where(e => e.Target == $"member:{uid}").ToListAsync());

    private Task<int> SetFailuresAsync(string scope, long window, int count) => TestMembers.WithDbAsync(Server, db =>
        db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO rate_counters (scope, window_start, count) VALUES ({scope}, {window}, {count}) ON CONFLICT (scope, window_start) DO UPDATE SET count = {count}"));

    private static string Base64(string base64Url)
    {
        var text = base64Url.Replace('-', '+').Replace('_', '/');
        return text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
    }
}

public sealed class PasskeyBehaviour_Sqlite(SqlitePasskeyFixture f) : PasskeyBehaviour<SqlitePasskeyFixture>(f);

public sealed class PasskeyBehaviour_Postgres(PostgresPasskeyFixture f) : PasskeyBehaviour<PostgresPasskeyFixture>(f);
