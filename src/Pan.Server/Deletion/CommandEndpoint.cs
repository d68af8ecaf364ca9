using Grpc.Core;
using Pan.General.Member.Dangerous;
using Pan.Server.Errors;
using Pan.Server.Members;
using Pan.Server.Tokens;
using Pan.Server.Transport;
using AccountError = Pan.General.Member.Dangerous.CmdDeleteAccountResponse.Types.Error;
using MemberError = Pan.General.Member.Dangerous.CmdDeleteMemberResponse.Types.Error;

namespace Pan.Server.Deletion;

/// <summary>
/// <c>pan.general.member.dangerous.Command</c>: deleting a member or a whole phone account.
/// <para>The sequence an app follows (a step-up by SMS, then the command):</para>
/// <list type="number">
/// <item>The member is signed in: the app holds their <c>pan_access_token</c> (AccessToken).</item>
/// <item><c>SendPhoneVerification { pan_access_token, session_token: "delete" }</c> texts a code to the member's phone.</item>
/// <item><c>VerifyPhoneCode { pan_access_token, session_token: "delete", code }</c> returns a <c>verify_token</c>: single-use,
/// valid for minutes (<c>Pan:Tokens:VerifyTokenLifetime</c>), bound to this member and to the purpose "delete".</item>
/// <item><c>DeleteMember</c> or <c>DeleteAccount { app_id, pan_access_token, del_token: verify_token }</c>.</item>
/// </list>
/// <para>VerifyMemberByPassword with session_token "delete" is the other step-up. A guest without a phone (no
/// pan_access_token, no phone) deletes itself through the apinode endpoints instead (<c>Guests.GuestDeletion</c>).</para>
/// <para>Errors (the seed's Cmd…Response.Error__Failed, with these status codes): app_id empty or unknown, or del_token
/// empty: INVALID_ARGUMENT naming the field; pan_access_token unknown, expired, revoked, of a deleted member or issued
/// to another app than app_id: UNAUTHENTICATED; del_token wrong, expired, already used, for another operation or
/// another member: PERMISSION_DENIED (nothing is deleted; the attempt is audited).</para>
/// <para>Idempotence: a deletion revokes every token of the deleted members at once, and del_token is single-use, so a
/// repeated call cannot prove ownership any more and answers UNAUTHENTICATED — a client may read that as "already
/// deleted". Two concurrent calls with valid tokens delete once; the later one answers OK (already deleted).</para>
/// </summary>
[BindServiceMethod(typeof(GuardedBinding<Command.CommandBase>), GuardedBinding.Method)]
public sealed class CommandEndpoint : Command.CommandBase
{
    /// <summary>
    /// Deletes the member of pan_access_token; the phone's other members stay (one becomes the default member if this
    /// one was). Deleting the phone's last member deletes the account too, freeing the phone.
    /// </summary>
    public override async Task<CmdDeleteMemberResponse> DeleteMember(CmdDeleteMemberRequest request, ServerCallContext context)
    {
        var caller = await AuthorizeAsync(request.AppId, request.PanAccessToken, request.DelToken, MemberError.Failed, context);
        var outcome = await Resolve<MemberDeletion>(context).DeleteMemberAsync(caller, request.DelToken, context.CancellationToken);
        return outcome == DeletionOutcome.Denied ? throw Denied(MemberError.Failed) : new CmdDeleteMemberResponse();
    }

    /// <summary>Deletes the phone account of pan_access_token and every member under it; the phone can then register anew.</summary>
    public override async Task<CmdDeleteAccountResponse> DeleteAccount(CmdDeleteAccountRequest request, ServerCallContext context)
    {
        var caller = await AuthorizeAsync(request.AppId, request.PanAccessToken, request.DelToken, AccountError.Failed, context);
        var outcome = await Resolve<MemberDeletion>(context).DeleteAccountAsync(caller, request.DelToken, context.CancellationToken);
        return outcome == DeletionOutcome.Denied ? throw Denied(AccountError.Failed) : new CmdDeleteAccountResponse();
    }

    private static async Task<AccessTokenInfo> AuthorizeAsync<TEnum>(string appId, string accessToken, string delToken, TEnum failed, ServerCallContext context)
        where TEnum : struct, Enum
    {
        var app = AppIds.Normalize(appId)
            ?? throw PanError.Of(failed, StatusCode.InvalidArgument, "app_id must name a known app.", new FieldViolation("app_id", "must name a known app"));
        if (string.IsNullOrEmpty(delToken))
        {
            throw PanError.Of(failed, StatusCode.InvalidArgument, "del_token is required.", new FieldViolation("del_token", "is required: a verify_token for the purpose \"delete\""));
        }

        var caller = await Resolve<TokenService>(context).ValidateAccessTokenAsync(accessToken, context.CancellationToken);
        return caller is not null && caller.AppId == app
            ? caller
            : throw PanError.Of(failed, StatusCode.Unauthenticated, "The pan_access_token is not valid for this app.");
    }

    private static RpcException Denied<TEnum>(TEnum failed)
        where TEnum : struct, Enum =>
        PanError.Of(failed, StatusCode.PermissionDenied, "The del_token is invalid, expired, used or for another operation; verify again.");

    private static T Resolve<T>(ServerCallContext context)
        where T : notnull => context.GetHttpContext().RequestServices.GetRequiredService<T>();
}
