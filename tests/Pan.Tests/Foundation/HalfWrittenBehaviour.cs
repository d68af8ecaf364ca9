using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Accounts;
using Pan.Data.AddressBooks;
using Pan.Data.Credentials;
using Pan.Data.Members;
using Pan.Data.PhaseSessions;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.General.Member.Dangerous;
using Pan.Server.DisplayNames;
using Pan.Server.Members;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using PhoneFlow = Pan.Tests.PhoneFlows.Phones;
using RegPhase = Pan.General.Member.RegisterRequest.Types.Phase;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 21, one transaction per operation: the LAST write of each multi-write operation is made to fail on the real
/// database (<see cref="FailureTriggers"/>), and nothing of the earlier writes may be left; once the trigger is gone the
/// same request succeeds. The caller sees INTERNAL (a database error that is neither an outage nor a conflict), never
/// an answer that blames its input, and never the database's text.
/// </summary>
/// <remarks>Why the last write: it is the one that proves the earlier ones were in the same transaction.</remarks>
public abstract class HalfWrittenBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ExtrasFixture
{
    private const string Password = "correct horse battery staple 42";
    private const string OtherPassword = "another long and fine passphrase 7";

    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    private PhoneFlow Phones => new(Client, fixture.Inbox);

    [Fact]
    public async Task Register_WhenOpeningTheAuthSessionFails_CreatesNoAccountNorMember_AndTheSameStepThenSucceeds()
    {
        var (national, e164) = PhoneFlow.NewNumber();
        var name = PhoneFlow.NewName();
        var start = await Phones.StartRegisterAsync(national);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlow.Wait);
        await Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
        var finish = new RegisterRequest { Phase = RegPhase.InputName, PhaseSessionToken = start.PhaseSessionToken, PhaseInputNameValue = name };

        // The last write of the final step: the auth session's row (after the flow's completion, the account and the member).
        await using (await FailAsync("auth_sessions", TriggeredWrite.Insert))
        {
            await ExpectInternalAsync(() => Client.RegisterAsync(finish).ResponseAsync);
        }

        Assert.False(await DbAsync(db => db.Set<Account>().AnyAsync(a => a.PhoneE164 == e164)));
        Assert.False(await DbAsync(db => db.Members.AnyAsync(m => m.DisplayNameKey == DisplayNameRules.Key(name))));
        Assert.False(await DbAsync(db => db.Set<PhaseSession>().AnyAsync(s => s.PhoneE164 == e164 && s.CompletedAt != null)));

        var done = await Client.RegisterAsync(finish);
        Assert.Equal(RegPhase.Done, done.NextPhase);
        var me = await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(done.PhaseDoneAuthToken) });
        Assert.Equal(name, me.User.DisplayName);
    }

    [Fact]
    public async Task PhoneLogin_WhenOpeningTheAuthSessionFails_LeavesTheCodeUnused_AndTheSameCodeThenSignsIn()
    {
        var (_, e164) = await Phones.RegisterAsync();
        var uid = await DbAsync(db => db.Members.Where(m => m.Account!.PhoneE164 == e164).Select(m => m.Uid).SingleAsync());
        var start = await Phones.StartLoginAsync(e164);
        var code = await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 2);
        var submit = new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code };
        var sessionsBefore = await DbAsync(db => db.Set<AuthSession>().CountAsync(s => s.Uid == uid));

        // The last write: the auth session's row, after the conditional UPDATE that accepts the code and ends the flow.
        await using (await FailAsync("auth_sessions", TriggeredWrite.Insert, FailureTriggers.UidIs(TriggeredWrite.Insert, uid)))
        {
            await ExpectInternalAsync(() => Client.LoginAsync(submit).ResponseAsync);
        }

        Assert.Equal(sessionsBefore, await DbAsync(db => db.Set<AuthSession>().CountAsync(s => s.Uid == uid)));
        Assert.False(await DbAsync(db => db.Set<PhaseSession>().AnyAsync(s => s.Uid == uid && s.CompletedAt != null)));

        var done = await Client.LoginAsync(submit);
        Assert.NotEmpty(done.PhaseDoneAuthToken);
        Assert.Equal(sessionsBefore + 1, await DbAsync(db => db.Set<AuthSession>().CountAsync(s => s.Uid == uid)));
    }

    [Fact]
    public async Task NewMember_WhenStoringItsPasswordFails_LeavesNoMemberUnderThePhone_AndTheSameRequestThenSucceeds()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var owner = (await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(auth) })).User;
        var accountId = await DbAsync(db => db.Members.Where(m => m.Uid == owner.Uid).Select(m => m.AccountId).SingleAsync());
        var version = await DbAsync(db => db.Set<Account>().Where(a => a.Id == accountId).Select(a => a.Version).SingleAsync());
        var request = new NewMemberRequest { AuthToken = auth, DisplayName = PhoneFlow.NewName(), Password = Password, ConfirmPassword = Password };

        // The last write: the new member's credentials (after the account's version bump, the member and its hash_uid).
        await using (await FailAsync("member_credentials", TriggeredWrite.Update))
        {
            await ExpectInternalAsync(() => Client.NewMemberAsync(request).ResponseAsync);
        }

        Assert.Equal([owner.Uid], await DbAsync(db => db.Members.Where(m => m.AccountId == accountId).Select(m => m.Uid).ToListAsync()));
        Assert.False(await DbAsync(db => db.Members.AnyAsync(m => m.DisplayNameKey == DisplayNameRules.Key(request.DisplayName))));
        Assert.Equal(version, await DbAsync(db => db.Set<Account>().Where(a => a.Id == accountId).Select(a => a.Version).SingleAsync()));

        var created = await Client.NewMemberAsync(request);
        Assert.Equal(request.DisplayName, created.Object.DisplayName);
        var verified = await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = request.DisplayName, Password = Password });
        Assert.NotEmpty(verified.VerifyToken);
    }

    [Fact]
    public async Task ValidateNewMember_WhenEndingTheJoiningMembersSessionsFails_LeavesItWhereItWas_AndTheSameRequestThenSucceeds()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var joining = await PhonelessMemberAsync();
        var joiningAccess = await TestMembers.AccessTokenAsync(Server, joining);
        var request = new ValidateNewMemberRequest
        {
            CurrentPhoneAuthToken = auth, NewMemberAccessToken = joiningAccess, VerifyToken = await VerifyTokenAsync(joining.Uid, VerifyPurposes.UpdateCredential),
        };

        // The last write: the joining member's token generation (after it was moved under the phone and its sessions ended).
        await using (await FailAsync("members", TriggeredWrite.Update,
            $"{FailureTriggers.UidIs(TriggeredWrite.Update, joining.Uid)} AND NEW.token_generation <> OLD.token_generation"))
        {
            await ExpectInternalAsync(() => Client.ValidateNewMemberAsync(request).ResponseAsync);
        }

        var stored = await DbAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == joining.Uid));
        Assert.Equal((joining.AccountId, joining.IsOwner), (stored.AccountId, stored.IsOwner));
        Assert.Equal(0, await DbAsync(db => db.Set<AuthSession>().CountAsync(s => s.Uid == joining.Uid && s.Revoked != null)));

        var moved = await Client.ValidateNewMemberAsync(request);
        Assert.Equal(joining.ObjectId.ToString("D"), moved.Object.ObjectId);
        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = joiningAccess }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
    }

    [Fact]
    public async Task PasswordChange_WhenRestampingTheCallersAccessTokensFails_KeepsTheOldPasswordAndTheOtherSessions_AndThenSucceeds()
    {
        var member = await TestMembers.CreateAsync(Server);
        var callerAuth = await TestMembers.AuthTokenAsync(Server, member);
        var callerAccess = await TestMembers.AccessTokenAsync(Server, callerAuth, member);
        await Client.SetMemberPasswordAsync(new SetMemberPasswordRequest
        {
            AccessToken = callerAccess, Password = Password, ConfirmPassword = Password, ResetCode = await VerifyTokenAsync(member.Uid, VerifyPurposes.UpdateCredential),
        });
        var otherAccess = await TestMembers.AccessTokenAsync(Server, member);
        var hash = await PasswordHashAsync(member.Uid);
        var generation = await DbAsync(db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.TokenGeneration).SingleAsync());
        var request = new UpdateCredentialRequest { PanAuthToken = callerAuth, OriginalPassword = Password, NewPassword = OtherPassword, ConfirmNewPassword = OtherPassword };

        // The last write that touches a row: re-stamping the caller's access tokens with the new generation (after the new
        // hash, the other sessions' revocation and the generation bump).
        await using (await FailAsync("access_tokens", TriggeredWrite.Update, FailureTriggers.UidIs(TriggeredWrite.Update, member.Uid)))
        {
            await ExpectInternalAsync(() => Client.UpdateCredentialAsync(request).ResponseAsync);
        }

        Assert.Equal(hash, await PasswordHashAsync(member.Uid));
        Assert.Equal(generation, await DbAsync(db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.TokenGeneration).SingleAsync()));
        Assert.Equal(0, await DbAsync(db => db.Set<AuthSession>().CountAsync(s => s.Uid == member.Uid && s.Revoked != null)));
        Assert.Equal(member.Uid, (await Client.MeAsync(new MeRequest { AccessToken = otherAccess })).User.Uid);

        // The same request (its original password still the current one) now succeeds and ends the other session.
        await Client.UpdateCredentialAsync(request);
        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = otherAccess }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
        Assert.Equal(member.Uid, (await Client.MeAsync(new MeRequest { AccessToken = callerAccess })).User.Uid);
    }

    [Fact]
    public async Task DeleteMember_WhenItsAuditEntryFails_ErasesNothingAndKeepsTheDelToken_WhichThenDeletes()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var member = await TestMembers.AddToPhoneAsync(Server, owner);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        await Client.SetMemberPasswordAsync(new SetMemberPasswordRequest
        {
            AccessToken = access, Password = Password, ConfirmPassword = Password, ResetCode = await VerifyTokenAsync(member.Uid, VerifyPurposes.UpdateCredential),
        });
        await Client.SaveAddressBookAsync(new SaveAddressBookRequest { AccessToken = access, AddressBook = new() { FullName = "Lin Mei", Address = "No. 1, Xinyi Rd" } });
        var delToken = await VerifyTokenAsync(member.Uid, VerifyPurposes.Delete);
        var delete = new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = access, DelToken = delToken };
        var commands = new Command.CommandClient(Server.Grpc);

        // The last write: the audit entries, after the tombstone, the revocation, every eraser and the phase sessions.
        await using (await FailAsync("audit_log", TriggeredWrite.Insert, "NEW.action = 'member.delete'"))
        {
            await ExpectInternalAsync(() => commands.DeleteMemberAsync(delete).ResponseAsync);
        }

        var stored = await DbAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == member.Uid));
        Assert.Null(stored.Deleted);
        Assert.Equal(member.DisplayName, stored.DisplayName);
        Assert.NotNull(await PasswordHashAsync(member.Uid));
        Assert.Equal(1, await DbAsync(db => db.Set<AddressBook>().CountAsync(a => a.Uid == member.Uid)));
        Assert.Equal(member.Uid, (await Client.MeAsync(new MeRequest { AccessToken = access })).User.Uid);

        // The del_token was not spent: the same command now deletes the member.
        await commands.DeleteMemberAsync(delete);
        Assert.NotNull(await DbAsync(db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.Deleted).SingleAsync()));
        Assert.Equal(0, await DbAsync(db => db.Set<AddressBook>().CountAsync(a => a.Uid == member.Uid)));
    }

    [Fact]
    public async Task SaveAddressBook_WhenInsertingTheNewDefaultFails_KeepsTheOldDefault_AndTheSameRequestThenSucceeds()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var first = (await Client.SaveAddressBookAsync(new SaveAddressBookRequest
        {
            AccessToken = access,
            AddressBook = new() { FullName = "Lin Mei", Address = "No. 1, Xinyi Rd", DefaultBuyer = true },
        })).AddressBook;
        var second = new SaveAddressBookRequest { AccessToken = access, AddressBook = new() { FullName = "Wang Xiao", Address = "No. 2, Zhongshan Rd", DefaultBuyer = true } };

        // The last write: the new entry's row, after the UPDATE that took the default flag from the old one.
        await using (await FailAsync("address_books", TriggeredWrite.Insert, FailureTriggers.UidIs(TriggeredWrite.Insert, member.Uid)))
        {
            await ExpectInternalAsync(() => Client.SaveAddressBookAsync(second).ResponseAsync);
        }

        var books = (await Client.GetAddressBooksAsync(new GetAddressBooksRequest { AccessToken = access })).AddressBooks;
        Assert.Equal([(first.Id, true)], books.Select(b => (b.Id, b.DefaultBuyer)));

        var saved = (await Client.SaveAddressBookAsync(second)).AddressBook;
        books = (await Client.GetAddressBooksAsync(new GetAddressBooksRequest { AccessToken = access })).AddressBooks;
        Assert.Equal([(first.Id, false), (saved.Id, true)], books.Select(b => (b.Id, b.DefaultBuyer)));
    }

    private static Task ExpectInternalAsync(Func<Task> call) => HalfWrittenChecks.ExpectInternalAsync(call);

    private Task<IAsyncDisposable> FailAsync(string table, TriggeredWrite write, string? when = null) =>
        FailureTriggers.FailAsync(Server, fixture.Database, table, write, when);

    private Task<T> DbAsync<T>(Func<Pan.Data.PanDbContext, Task<T>> query) => TestMembers.WithDbAsync(Server, query);

    private Task<string?> PasswordHashAsync(long uid) =>
        DbAsync(db => db.Set<MemberCredential>().Where(c => c.Uid == uid).Select(c => c.PasswordHash).SingleOrDefaultAsync());

    private Task<string> VerifyTokenAsync(long uid, string purpose) => HalfWrittenChecks.VerifyTokenAsync(Server, uid, purpose);

    /// <summary>A member of an account without a phone (an imported member or a guest), as ValidateNewMember expects.</summary>
    private async Task<Member> PhonelessMemberAsync()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var name = TestMembers.UniqueName();
        var member = new Member { DisplayName = name, DisplayNameKey = DisplayNameRules.Key(name), IsOwner = true, MigrationStatus = 1 };
        return await scope.ServiceProvider.GetRequiredService<MemberCreator>().CreateAsync(new Account(), member, default);
    }
}

public sealed class HalfWrittenBehaviour_Sqlite(SqliteExtrasFixture f) : HalfWrittenBehaviour<SqliteExtrasFixture>(f);

public sealed class HalfWrittenBehaviour_Postgres(PostgresExtrasFixture f) : HalfWrittenBehaviour<PostgresExtrasFixture>(f);
