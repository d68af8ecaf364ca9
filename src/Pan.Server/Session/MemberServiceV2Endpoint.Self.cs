using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Errors;
using Pan.Server.Session;
using Pan.Server.Tokens;
using PanGender = Pan.Atom.Member.Gender;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>
    /// The signed-in member with its self-only fields. app_id is optional; when given it must name a known app
    /// (INVALID_ARGUMENT naming app_id) and the app the token was issued for (a token shown by another app:
    /// UNAUTHENTICATED ErrMe.TOKEN_INVALID). A token that is unknown, expired or revoked: UNAUTHENTICATED
    /// ErrMe.TOKEN_INVALID; a live token whose member was deleted (without its tokens being revoked):
    /// NOT_FOUND MeResponse.Error.NotExists.
    /// </summary>
    public override async Task<MeResponse> Me(MeRequest request, ServerCallContext context)
    {
        var app = string.IsNullOrEmpty(request.AppId) ? null : RequireApp(request.AppId);
        var found = await Resolve<TokenService>(context).LookupAccessTokenAsync(request.AccessToken, context.CancellationToken);
        if (found is null || (app is not null && app != found.Info.AppId))
        {
            throw PanError.Of(ErrMe.Types.General.TokenInvalid, StatusCode.Unauthenticated, "The access token is not valid.");
        }

        if (found.MemberDeleted)
        {
            throw PanError.Of(MeResponse.Types.Error.NotExists, StatusCode.NotFound, "The member no longer exists.");
        }

        // Why only after a proof of the phone: can_new_child tells whether NewMember would add a member, and NewMember
        // refuses the auth token of a sign-in that proved one member (no count is needed to say false).
        int? live = found.Info.ProvesThePhone
            ? await Resolve<MemberDirectory>(context).CountLiveAsync(found.Info.AccountId, context.CancellationToken)
            : null;
        return new MeResponse { User = Resolve<ObjectMapper>(context).ToObject(found.Member, self: true, live) };
    }

    /// <summary>
    /// The other live members under the caller's phone, oldest first (empty when there are none). They are shown in
    /// the self view (phone, email, …) because they belong to the same phone holder. A token whose session proved one
    /// member, not the phone (a password, email-code, hand-off or social sign-in; <see cref="AuthMethods.IsMemberBound"/>),
    /// gets an empty list: AccessToken answers such a session's other members like members of another phone, and
    /// their self-only fields are not its to see. A token that is unknown, expired, revoked or whose member was
    /// deleted: UNAUTHENTICATED ErrOtherMember.TOKEN_INVALID.
    /// </summary>
    public override async Task<OtherMemberResponse> OtherMember(OtherMemberRequest request, ServerCallContext context)
    {
        var found = await Resolve<TokenService>(context).LookupAccessTokenAsync(request.AccessToken, context.CancellationToken);
        if (found is null || found.MemberDeleted)
        {
            throw PanError.Of(ErrOtherMember.Types.General.TokenInvalid, StatusCode.Unauthenticated, "The access token is not valid.");
        }

        var response = new OtherMemberResponse();
        if (!found.Info.ProvesThePhone)
        {
            return response;
        }

        var others = await Resolve<MemberDirectory>(context).OthersAsync(found.Member.Account!, found.Member.Uid, context.CancellationToken);
        var mapper = Resolve<ObjectMapper>(context);
        response.Objects.AddRange(others.Select(m => mapper.ToObject(m, self: true, others.Count + 1)));
        return response;
    }

    /// <summary>
    /// Sets the caller's gender once, from GENDER_NOTSET to Male or Female, with one conditional update (so of two
    /// concurrent calls exactly one wins). gender not Male/Female: INVALID_ARGUMENT naming gender; a token that is
    /// unknown, expired, revoked or whose member was deleted: UNAUTHENTICATED ErrInitGender.GENERAL_TOKEN_INVALID;
    /// gender already set: FAILED_PRECONDITION ErrInitGender.GENERAL_FAILED.
    /// </summary>
    public override async Task<InitGenderResponse> InitGender(InitGenderRequest request, ServerCallContext context)
    {
        if (request.Gender is not (PanGender.Male or PanGender.Female))
        {
            throw PanError.InvalidArgument("gender", "must be Male or Female");
        }

        var found = await Resolve<TokenService>(context).LookupAccessTokenAsync(request.AccessToken, context.CancellationToken);
        if (found is null || found.MemberDeleted)
        {
            throw PanError.Of(ErrInitGender.Types.General.TokenInvalid, StatusCode.Unauthenticated, "The access token is not valid.");
        }

        var now = Resolve<TimeProvider>(context).GetUtcNow();
        if (!await Resolve<MemberDirectory>(context).InitGenderAsync(found.Info.Uid, (int)request.Gender, now, context.CancellationToken))
        {
            throw PanError.Of(ErrInitGender.Types.General.Failed, StatusCode.FailedPrecondition, "The gender is already set.");
        }

        return new InitGenderResponse();
    }

    /// <summary>
    /// Where the caller stands in the migration from the legacy member stores (see <see cref="MigrationStatuses"/>).
    /// The seed's ErrMemberMigrationStatus has no token error, so a token that is unknown, expired, revoked or whose
    /// member was deleted answers UNAUTHENTICATED ErrMemberMigrationStatus.GENERAL_FAILED; a stored status the seed
    /// does not know answers INTERNAL with the same error.
    /// </summary>
    public override async Task<MemberMigrationStatusResponse> MemberMigrationStatus(MemberMigrationStatusRequest request, ServerCallContext context)
    {
        var found = await Resolve<TokenService>(context).LookupAccessTokenAsync(request.AccessToken, context.CancellationToken);
        if (found is null || found.MemberDeleted)
        {
            throw PanError.Of(ErrMemberMigrationStatus.Types.General.Failed, StatusCode.Unauthenticated, "The access token is not valid.");
        }

        var status = MigrationStatuses.ToContract(found.Member.MigrationStatus)
            ?? throw PanError.Of(ErrMemberMigrationStatus.Types.General.Failed, StatusCode.Internal, "The member's migration status is not readable.");
        return new MemberMigrationStatusResponse { Status = status };
    }
}
