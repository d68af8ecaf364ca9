using Pan.Contract.Tests.Seed;

namespace Pan.Contract.Tests;

/// <summary>
/// What the compiled contract must contain: the seed document, plus Pan's own designs
/// for messages the seed names without fields (oauth) or does not list at all
/// (UpdateAvatarResponse, and the messages of Pan's extension methods such as the admin
/// API's SuspendMember and the member API's ListSessions). Designs may only fill such gaps; they can never change a
/// message whose field table is in the seed. A seed message may only gain fields that
/// Pan appends after the seed's (the additions, such as SetMemberEmailRequest.verify_token).
/// </summary>
internal static class ContractSpec
{
    // Why the same table syntax as the seed: one parser, one comparison. Keep in step with
    // the proto comments in proto/pan/general/member/first.proto and proto/pan/oauth/*.proto.
    private const string DesignText = """
        general/member/first.proto
        UpdateAvatarResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | avatar | string | |
        ExportMyDataRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        | verify_token | string | |
        ExportMyDataResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | json | string | |
        | content_type | string | |
        | generated_at | google.protobuf.Timestamp | |
        ExportMyDataResponse.Error
        ExportMyDataResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | TokenInvalid | 1001 | |
        | VerifyTokenInvalid | 1002 | |
        | TooSoon | 1003 | |
        ListSessionsRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        ListSessionsResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | sessions | SignedInSession | repeated |
        ListSessionsResponse.Error
        ListSessionsResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | TokenInvalid | 1001 | |
        SignedInSession
        | Field | Type | Label | Description |
        |---|---|---|---|
        | session_id | string | |
        | created | google.protobuf.Timestamp | |
        | expires | google.protobuf.Timestamp | |
        | auth_method | string | |
        | uid | int64 | |
        | display_name | string | |
        | client_ip | string | |
        | user_agent | string | |
        | app_ids | string | repeated |
        | current | bool | |
        | can_end | bool | |
        EndSessionRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        | session_id | string | |
        EndSessionResponse
        EndSessionResponse.Error
        EndSessionResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | TokenInvalid | 1001 | |
        | SessionNotFound | 1002 | |
        | SessionProvedThePhone | 1003 | |
        EndOtherSessionsRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        EndOtherSessionsResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | ended | int32 | |
        EndOtherSessionsResponse.Error
        EndOtherSessionsResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | TokenInvalid | 1001 | |
        BeginPasskeyRegistrationRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        | verify_token | string | |
        BeginPasskeyRegistrationResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | registration_id | string | |
        | options_json | string | |
        BeginPasskeyRegistrationResponse.Error
        BeginPasskeyRegistrationResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | TokenInvalid | 1001 | |
        | VerifyTokenInvalid | 1002 | |
        | PasskeysOff | 1003 | |
        | TooManyPasskeys | 1004 | |
        FinishPasskeyRegistrationRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        | registration_id | string | |
        | credential_json | string | |
        | name | string | |
        FinishPasskeyRegistrationResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | passkey_id | string | |
        FinishPasskeyRegistrationResponse.Error
        FinishPasskeyRegistrationResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | TokenInvalid | 1001 | |
        | RegistrationInvalid | 1002 | |
        | CredentialRefused | 1003 | |
        | AlreadyRegistered | 1004 | |
        | PasskeysOff | 1005 | |
        | TooManyPasskeys | 1006 | |
        BeginPasskeySignInRequest
        BeginPasskeySignInResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | sign_in_id | string | |
        | options_json | string | |
        BeginPasskeySignInResponse.Error
        BeginPasskeySignInResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | PasskeysOff | 1001 | |
        | TooManyAttempts | 1002 | |
        FinishPasskeySignInRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | sign_in_id | string | |
        | credential_json | string | |
        FinishPasskeySignInResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | auth_token | string | |
        | expires | google.protobuf.Timestamp | |
        FinishPasskeySignInResponse.Error
        FinishPasskeySignInResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | SignInInvalid | 1001 | |
        | CredentialRefused | 1002 | |
        | PasskeysOff | 1003 | |
        | TooManyAttempts | 1004 | |
        ListPasskeysRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        ListPasskeysResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | passkeys | Passkey | repeated |
        ListPasskeysResponse.Error
        ListPasskeysResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | TokenInvalid | 1001 | |
        | PasskeysOff | 1002 | |
        Passkey
        | Field | Type | Label | Description |
        |---|---|---|---|
        | passkey_id | string | |
        | name | string | |
        | created | google.protobuf.Timestamp | |
        | last_used | google.protobuf.Timestamp | |
        | aaguid | string | |
        DeletePasskeyRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        | passkey_id | string | |
        DeletePasskeyResponse
        DeletePasskeyResponse.Error
        DeletePasskeyResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | TokenInvalid | 1001 | |
        | PasskeyNotFound | 1002 | |
        | PasskeysOff | 1003 | |
        RenamePasskeyRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        | passkey_id | string | |
        | name | string | |
        RenamePasskeyResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | passkey | Passkey | |
        RenamePasskeyResponse.Error
        RenamePasskeyResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | TokenInvalid | 1001 | |
        | PasskeyNotFound | 1002 | |
        | PasskeysOff | 1003 | |
        ListSocialIdentitiesRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        ListSocialIdentitiesResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | identities | LinkedSocialIdentity | repeated |
        ListSocialIdentitiesResponse.Error
        ListSocialIdentitiesResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | TokenInvalid | 1001 | |
        LinkedSocialIdentity
        | Field | Type | Label | Description |
        |---|---|---|---|
        | provider | string | |
        | provider_user_id | string | |
        | created | google.protobuf.Timestamp | |
        | last_used | google.protobuf.Timestamp | |
        UnlinkSocialIdentityRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        | provider | string | |
        UnlinkSocialIdentityResponse
        UnlinkSocialIdentityResponse.Error
        UnlinkSocialIdentityResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | TokenInvalid | 1001 | |
        | IdentityNotFound | 1002 | |
        | LastWayIn | 1003 | |
        general/admin/admin.proto
        SuspendMemberRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | admin_token | string | |
        | uid | int64 | |
        | until | google.protobuf.Timestamp | |
        SuspendMemberResponse
        SuspendMemberResponse.Error
        SuspendMemberResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | NotAuthorized | 1001 | |
        | UserNotFound | 1002 | |
        | InternalError | 1003 | |
        RestoreMemberRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | admin_token | string | |
        | uid | int64 | |
        RestoreMemberResponse
        RestoreMemberResponse.Error
        RestoreMemberResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | NotAuthorized | 1001 | |
        | UserNotFound | 1002 | |
        | InternalError | 1003 | |
        BlockPhoneRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | admin_token | string | |
        | phone | string | |
        | reason | string | |
        | expires | google.protobuf.Timestamp | |
        BlockPhoneResponse
        BlockPhoneResponse.Error
        BlockPhoneResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | NotAuthorized | 1001 | |
        | InternalError | 1002 | |
        UnblockPhoneRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | admin_token | string | |
        | phone | string | |
        UnblockPhoneResponse
        UnblockPhoneResponse.Error
        UnblockPhoneResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | NotAuthorized | 1001 | |
        | NotBlocked | 1002 | |
        | InternalError | 1003 | |
        ListBlockedPhonesRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | admin_token | string | |
        | page | int32 | |
        ListBlockedPhonesResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | phones | BlockedPhone | repeated |
        ListBlockedPhonesResponse.Error
        ListBlockedPhonesResponse.Error.Value
        | Name | Number | Description |
        |---|---|---|
        | None | 0 | |
        | NotAuthorized | 1001 | |
        | InternalError | 1002 | |
        BlockedPhone
        | Field | Type | Label | Description |
        |---|---|---|---|
        | phone | string | |
        | reason | string | |
        | blocked_by | string | |
        | created | google.protobuf.Timestamp | |
        | expires | google.protobuf.Timestamp | |
        oauth/app.proto
        GetAccessTokenRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | grant_type | string | |
        | code | string | |
        | redirect_uri | string | |
        | client_id | string | |
        | client_secret | string | |
        | code_verifier | string | |
        GetAccessTokenResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        | token_type | string | |
        | expires_in | int64 | |
        | refresh_token | string | |
        | id_token | string | |
        | scope | string | |
        GetRefreshTokenRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | refresh_token | string | |
        | client_id | string | |
        | client_secret | string | |
        | scope | string | |
        GetRefreshTokenResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | access_token | string | |
        | token_type | string | |
        | expires_in | int64 | |
        | refresh_token | string | |
        | id_token | string | |
        | scope | string | |
        oauth/consent.proto
        DoRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | pan_access_token | string | |
        | client_id | string | |
        | redirect_uri | string | |
        | response_type | string | |
        | scope | string | |
        | state | string | |
        | nonce | string | |
        | code_challenge | string | |
        | code_challenge_method | string | |
        DoResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | request_id | string | |
        | consent_required | bool | |
        | requested_scopes | string | repeated |
        | redirect_uri | string | |
        | detail | GetDetailResponse | |
        | remember_offered | bool | |
        ApproveRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | request_id | string | |
        | pan_access_token | string | |
        | granted_scopes | string | repeated |
        | remember | bool | |
        ApproveResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | redirect_uri | string | |
        RejectRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | request_id | string | |
        | pan_access_token | string | |
        RejectResponse
        | Field | Type | Label | Description |
        |---|---|---|---|
        | redirect_uri | string | |
        """;

    // Pan's additions to messages whose field table is in the seed: fields appended after the seed's, numbered on from
    // them, each with a comment in the proto saying why. Nothing of the seed's own fields may change.
    private const string AdditionText = """
        general/member/first.proto
        SetMemberEmailRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | verify_token | string | |
        ValidateNewMemberRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | verify_token | string | |
        ValidatePhoneRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | verify_token | string | |
        ValidatePhoneV2Request
        | Field | Type | Label | Description |
        |---|---|---|---|
        | verify_token | string | |
        VerifyEmailCodeRequest
        | Field | Type | Label | Description |
        |---|---|---|---|
        | session_token | string | |
        """;

    private static readonly Lazy<IReadOnlyList<SeedFile>> DesignFiles = new(() => SeedParser.Parse(DesignText));

    private static readonly Lazy<IReadOnlyList<SeedFile>> AdditionFiles = new(() => SeedParser.Parse(AdditionText));

    private static readonly Lazy<HashSet<string>> KnownTypes = new(() =>
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in SeedDocument.Files.Concat(DesignFiles.Value))
        {
            names.UnionWith(file.Messages.Select(m => file.FullName(m.Name)));
            names.UnionWith(file.Enums.Select(e => file.FullName(e.Name)));
        }

        return names;
    });

    public static IReadOnlyList<SeedFile> Seed => SeedDocument.Files;

    public static IReadOnlyList<SeedFile> Design => DesignFiles.Value;

    /// <summary>
    /// Pan's methods after a seed service's own, in order, by service full name: Pan extensions, each marked so in its
    /// proto comment, whose messages are designs above. The seed's methods keep their places.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<SeedMethod>> ExtensionMethods { get; } =
        new Dictionary<string, IReadOnlyList<SeedMethod>>(StringComparer.Ordinal)
        {
            ["pan.general.member.MemberServiceV2"] =
            [
                new("ExportMyData", "pan.general.member.ExportMyDataRequest", "pan.general.member.ExportMyDataResponse"),
                new("ListSessions", "pan.general.member.ListSessionsRequest", "pan.general.member.ListSessionsResponse"),
                new("EndSession", "pan.general.member.EndSessionRequest", "pan.general.member.EndSessionResponse"),
                new("EndOtherSessions", "pan.general.member.EndOtherSessionsRequest", "pan.general.member.EndOtherSessionsResponse"),
                new("BeginPasskeyRegistration", "pan.general.member.BeginPasskeyRegistrationRequest", "pan.general.member.BeginPasskeyRegistrationResponse"),
                new("FinishPasskeyRegistration", "pan.general.member.FinishPasskeyRegistrationRequest", "pan.general.member.FinishPasskeyRegistrationResponse"),
                new("BeginPasskeySignIn", "pan.general.member.BeginPasskeySignInRequest", "pan.general.member.BeginPasskeySignInResponse"),
                new("FinishPasskeySignIn", "pan.general.member.FinishPasskeySignInRequest", "pan.general.member.FinishPasskeySignInResponse"),
                new("ListPasskeys", "pan.general.member.ListPasskeysRequest", "pan.general.member.ListPasskeysResponse"),
                new("DeletePasskey", "pan.general.member.DeletePasskeyRequest", "pan.general.member.DeletePasskeyResponse"),
                new("RenamePasskey", "pan.general.member.RenamePasskeyRequest", "pan.general.member.RenamePasskeyResponse"),
                new("ListSocialIdentities", "pan.general.member.ListSocialIdentitiesRequest", "pan.general.member.ListSocialIdentitiesResponse"),
                new("UnlinkSocialIdentity", "pan.general.member.UnlinkSocialIdentityRequest", "pan.general.member.UnlinkSocialIdentityResponse"),
            ],
            ["pan.general.admin.AdminService"] =
            [
                new("SuspendMember", "pan.general.admin.SuspendMemberRequest", "pan.general.admin.SuspendMemberResponse"),
                new("RestoreMember", "pan.general.admin.RestoreMemberRequest", "pan.general.admin.RestoreMemberResponse"),
                new("BlockPhone", "pan.general.admin.BlockPhoneRequest", "pan.general.admin.BlockPhoneResponse"),
                new("UnblockPhone", "pan.general.admin.UnblockPhoneRequest", "pan.general.admin.UnblockPhoneResponse"),
                new("ListBlockedPhones", "pan.general.admin.ListBlockedPhonesRequest", "pan.general.admin.ListBlockedPhonesResponse"),
            ],
        };

    /// <summary>Pan's appended fields by message full name, numbered from 1 within the addition (not yet after the seed's).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<SeedField>> Additions =>
        AdditionFiles.Value
            .SelectMany(f => f.Messages.Select(m => (Name: f.FullName(m.Name), Fields: m.Fields ?? [])))
            .ToDictionary(m => m.Name, m => m.Fields, StringComparer.Ordinal);

    /// <summary>Full names of the designed messages.</summary>
    public static IReadOnlySet<string> DesignedMessages =>
        Design.SelectMany(f => f.Messages.Select(m => f.FullName(m.Name))).ToHashSet(StringComparer.Ordinal);

    /// <summary>Every message and enum full name the contract may declare.</summary>
    public static IReadOnlySet<string> AllTypeNames => KnownTypes.Value;

    /// <summary>
    /// Resolves a type as written in the seed (scalar, package-relative such as
    /// <c>LoginRequest.Phase</c>, or full such as <c>pan.atom.member.Object</c>) to the
    /// protobuf spelling used by <see cref="CompiledContract.TypeName"/>.
    /// </summary>
    public static string Resolve(string type, string package)
    {
        if (SeedParser.IsScalar(type))
        {
            return type;
        }

        var relative = package + "." + type;
        if (KnownTypes.Value.Contains(relative))
        {
            return relative;
        }

        return KnownTypes.Value.Contains(type) || type.StartsWith("google.", StringComparison.Ordinal)
            ? type
            : relative;
    }
}
