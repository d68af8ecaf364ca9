using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Errors;
using Pan.Server.Passkeys;
using Pan.Server.Tokens;
using DeleteErr = Pan.General.Member.DeletePasskeyResponse.Types.Error.Types.Value;
using ListErr = Pan.General.Member.ListPasskeysResponse.Types.Error.Types.Value;
using RenameErr = Pan.General.Member.RenamePasskeyResponse.Types.Error.Types.Value;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>Pan extension: starts adding a passkey, behind an "add-passkey" step-up (<see cref="PasskeyRegistration"/>).</summary>
    public override Task<BeginPasskeyRegistrationResponse> BeginPasskeyRegistration(BeginPasskeyRegistrationRequest request, ServerCallContext context) =>
        Resolve<PasskeyRegistration>(context).BeginAsync(request, context.CancellationToken);

    /// <summary>Pan extension: checks the authenticator's answer and stores the passkey (<see cref="PasskeyRegistration"/>).</summary>
    public override Task<FinishPasskeyRegistrationResponse> FinishPasskeyRegistration(FinishPasskeyRegistrationRequest request, ServerCallContext context) =>
        Resolve<PasskeyRegistration>(context).FinishAsync(request, context.CancellationToken);

    /// <summary>Pan extension: starts a passkey sign-in (<see cref="PasskeySignIn"/>).</summary>
    public override Task<BeginPasskeySignInResponse> BeginPasskeySignIn(BeginPasskeySignInRequest request, ServerCallContext context) =>
        Resolve<PasskeySignIn>(context).BeginAsync(context.GetHttpContext(), context.CancellationToken);

    /// <summary>Pan extension: checks a passkey assertion and opens a member-bound session (<see cref="PasskeySignIn"/>).</summary>
    public override Task<FinishPasskeySignInResponse> FinishPasskeySignIn(FinishPasskeySignInRequest request, ServerCallContext context) =>
        Resolve<PasskeySignIn>(context).FinishAsync(request, context.GetHttpContext(), context.CancellationToken);

    /// <summary>
    /// Pan extension: the caller's passkeys, oldest first. access_token empty: INVALID_ARGUMENT naming it; a bad token:
    /// UNAUTHENTICATED ListPasskeysResponse.Error.TokenInvalid.
    /// </summary>
    public override async Task<ListPasskeysResponse> ListPasskeys(ListPasskeysRequest request, ServerCallContext context)
    {
        Resolve<PasskeyCeremonies>(context).Require(ListErr.PasskeysOff);
        var caller = await SessionCallerAsync(request.AccessToken, ListErr.TokenInvalid, context);
        var passkeys = await Resolve<PasskeyStore>(context).ListAsync(caller.Uid, context.CancellationToken);
        var response = new ListPasskeysResponse();
        response.Passkeys.AddRange(passkeys.Select(ToContract));
        return response;
    }

    /// <summary>
    /// Pan extension: deletes one of the caller's passkeys. passkey_id empty or not a passkey id's shape:
    /// INVALID_ARGUMENT naming it; unknown, already deleted or another member's: NOT_FOUND
    /// DeletePasskeyResponse.Error.PasskeyNotFound (one answer), deleting nothing.
    /// </summary>
    public override async Task<DeletePasskeyResponse> DeletePasskey(DeletePasskeyRequest request, ServerCallContext context)
    {
        Resolve<PasskeyCeremonies>(context).Require(DeleteErr.PasskeysOff);
        if (string.IsNullOrEmpty(request.AccessToken))
        {
            throw PanError.InvalidArgument("access_token", "is required");
        }

        var credentialId = PasskeyIdOf(request.PasskeyId);
        var caller = await SessionCallerAsync(request.AccessToken, DeleteErr.TokenInvalid, context);
        if (!await Resolve<PasskeyStore>(context).DeleteAsync(caller.Uid, credentialId, context.CancellationToken))
        {
            throw PanError.Of(DeleteErr.PasskeyNotFound, StatusCode.NotFound, "The member has no such passkey.");
        }

        return new DeletePasskeyResponse();
    }

    /// <summary>
    /// Pan extension: renames one of the caller's passkeys and answers it as ListPasskeys shows it. passkey_id empty or not
    /// a passkey id's shape, or a name FinishPasskeyRegistration would refuse (<see cref="PasskeyRegistration.ValidName"/>):
    /// INVALID_ARGUMENT naming it; unknown, deleted or another member's: NOT_FOUND RenamePasskeyResponse.Error.PasskeyNotFound
    /// (one answer, as DeletePasskey's), renaming nothing.
    /// </summary>
    public override async Task<RenamePasskeyResponse> RenamePasskey(RenamePasskeyRequest request, ServerCallContext context)
    {
        Resolve<PasskeyCeremonies>(context).Require(RenameErr.PasskeysOff);
        if (string.IsNullOrEmpty(request.AccessToken))
        {
            throw PanError.InvalidArgument("access_token", "is required");
        }

        var credentialId = PasskeyIdOf(request.PasskeyId);
        var name = PasskeyRegistration.ValidName(request.Name);
        var caller = await SessionCallerAsync(request.AccessToken, RenameErr.TokenInvalid, context);
        var renamed = await Resolve<PasskeyStore>(context).RenameAsync(caller.Uid, credentialId, name, context.CancellationToken)
            ?? throw PanError.Of(RenameErr.PasskeyNotFound, StatusCode.NotFound, "The member has no such passkey.");
        return new RenamePasskeyResponse { Passkey = ToContract(renamed) };
    }

    private static Passkey ToContract(PasskeyView passkey) => new()
    {
        PasskeyId = passkey.PasskeyId,
        Name = passkey.Name,
        Created = Timestamp.FromDateTimeOffset(passkey.Created),
        LastUsed = passkey.LastUsed is { } used ? Timestamp.FromDateTimeOffset(used) : null,
        Aaguid = passkey.Aaguid.ToString(),
    };

    /// <summary>The credential id a passkey_id names (ListPasskeys' base64url); empty or not of that shape: INVALID_ARGUMENT naming it.</summary>
    private static byte[] PasskeyIdOf(string passkeyId) =>
        PasskeyStore.CredentialId(passkeyId)
        ?? throw PanError.InvalidArgument("passkey_id", string.IsNullOrEmpty(passkeyId) ? "is required" : "is not a passkey id from ListPasskeys");
}
