using Grpc.Core;
using Pan.General.Admin;
using Pan.Server.Errors;
using Pan.Server.Transport;
using EmailError = Pan.General.Admin.ChangeMemberEmailResponse.Types.Error.Types.Value;
using PasswordError = Pan.General.Admin.ChangeMemberPasswordResponse.Types.Error.Types.Value;
using AvatarError = Pan.General.Admin.RemoveMemberAvatarResponse.Types.Error.Types.Value;
using RestoreError = Pan.General.Admin.RestoreMemberResponse.Types.Error.Types.Value;
using SuspendError = Pan.General.Admin.SuspendMemberResponse.Types.Error.Types.Value;

namespace Pan.Server.Admin;

/// <summary>
/// <c>pan.general.admin.AdminService</c>: the operators' API. Staff sign in with Google (GoogleLogin) and use the admin
/// token on the member-maintenance calls, which check the token and the role (<see cref="AdminRoles"/>) and are
/// audited (<see cref="AdminActions"/>). The seed's "JKF" errors (EmailInUseInJKF, EmailNotUsableInJKF,
/// RemoveAvatarInJKFFailed) belong to a legacy member store that Pan does not write to, so they never occur.
/// </summary>
[BindServiceMethod(typeof(GuardedBinding<AdminService.AdminServiceBase>), GuardedBinding.Method)]
public sealed partial class AdminEndpoint : AdminService.AdminServiceBase
{
    private static readonly string[] MemberAdmin = [AdminRoles.MemberAdmin];
    private static readonly string[] AvatarModerators = [AdminRoles.MemberAdmin, AdminRoles.Support];

    /// <summary>Google access token → admin token (see <see cref="GoogleAdminSignIn"/> for the errors); audited as admin.google-login.</summary>
    public override async Task<GoogleLoginResponse> GoogleLogin(GoogleLoginRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.AccessToken))
        {
            throw PanError.InvalidArgument("access_token", "is required");
        }

        if (request.AccessToken.Length > GoogleAdminSignIn.MaxAccessTokenLength)
        {
            throw PanError.InvalidArgument("access_token", $"must be at most {GoogleAdminSignIn.MaxAccessTokenLength} characters");
        }

        var actor = AdminActions.UnknownActor;
        var signIn = Resolve<GoogleAdminSignIn>(context);
        string? admin = null;
        var response = new GoogleLoginResponse();
        // Why two steps: Google is asked outside any transaction; the session opens in the transaction of its audit line.
        // GoogleLogin has no seed vocabulary, so an internal failure stays a plain INTERNAL.
        await Resolve<AdminActions>(context).RecordAsync(() => actor, "admin.google-login", "admin-console",
            prepare: async () => admin = await signIn.CheckAsync(request.AccessToken, email => actor = email, context.CancellationToken),
            body: async () => response.AdminToken = (await signIn.OpenSessionAsync(admin!, context.CancellationToken)).Token,
            internalFailure: null, context.CancellationToken);
        return response;
    }

    /// <summary>is_valid with the admin's email and roles; an unknown, expired or removed admin's token is is_valid=false (not an error).</summary>
    public override async Task<ValidateAdminTokenResponse> ValidateAdminToken(ValidateAdminTokenRequest request, ServerCallContext context)
    {
        var admin = await Resolve<AdminDirectory>(context).ValidateAsync(request.AdminToken, context.CancellationToken);
        var response = new ValidateAdminTokenResponse { IsValid = admin is not null, Email = admin?.Email ?? string.Empty };
        response.Roles.AddRange(admin?.Roles ?? []);
        return response;
    }

    /// <summary>
    /// Role member-admin. Sets the password and ends all the member's sessions. Errors: ChangeMemberPasswordResponse.Error;
    /// its enum has no InternalError, so an internal failure is UpdatePasswordFailed with status INTERNAL.
    /// </summary>
    public override async Task<ChangeMemberPasswordResponse> ChangeMemberPassword(ChangeMemberPasswordRequest request, ServerCallContext context)
    {
        var maintenance = Resolve<MemberMaintenance>(context);
        await Resolve<AdminActions>(context).RunAsync(request.AdminToken, PasswordError.NotAuthorized, PasswordError.UpdatePasswordFailed, MemberAdmin,
            "admin.change-member-password", Target(request.Uid),
            _ => maintenance.PreparePasswordAsync(request.Uid, request.Password, context.CancellationToken),
            (_, prepared) => maintenance.ChangePasswordAsync(request.Uid, prepared, context.CancellationToken),
            context.CancellationToken);
        return new ChangeMemberPasswordResponse();
    }

    /// <summary>Role member-admin. Sets the email (verified, no mail sent). Errors: ChangeMemberEmailResponse.Error.</summary>
    public override async Task<ChangeMemberEmailResponse> ChangeMemberEmail(ChangeMemberEmailRequest request, ServerCallContext context)
    {
        await Resolve<AdminActions>(context).RunAsync(request.AdminToken, EmailError.NotAuthorized, EmailError.InternalError, MemberAdmin,
            "admin.change-member-email", Target(request.Uid),
            _ => Resolve<MemberMaintenance>(context).ChangeEmailAsync(request.Uid, request.Email, context.CancellationToken),
            context.CancellationToken);
        return new ChangeMemberEmailResponse();
    }

    /// <summary>Role support or member-admin. Clears the member's avatar, then deletes its stored picture. Errors: RemoveMemberAvatarResponse.Error.</summary>
    public override async Task<RemoveMemberAvatarResponse> RemoveMemberAvatar(RemoveMemberAvatarRequest request, ServerCallContext context)
    {
        string? removed = null;
        await Resolve<AdminActions>(context).RunAsync(request.AdminToken, AvatarError.NotAuthorized, AvatarError.InternalError, AvatarModerators,
            "admin.remove-member-avatar", Target(request.Uid),
            async _ => removed = await Resolve<MemberMaintenance>(context).RemoveAvatarAsync(request.Uid, context.CancellationToken),
            context.CancellationToken);
        // Why after RunAsync: the picture goes only once the removal has committed (see MemberMaintenance.RemoveAvatarAsync).
        // Why not the call's token: once the removal has committed the picture must go too, even if the caller has gone;
        // a cancelled deletion left a picture no member shows served at its URL.
        await Resolve<Avatars.AvatarService>(context).DeleteFilesAsync(removed, CancellationToken.None);
        return new RemoveMemberAvatarResponse();
    }

    /// <summary>
    /// Pan extension. Role member-admin. Suspends the member until <c>until</c> (absent: until restored) and ends its
    /// sessions and tokens (<see cref="Suspension.MemberSuspensions.SuspendAsync"/>). Errors: SuspendMemberResponse.Error;
    /// an <c>until</c> in the past or more than 100 years away is INVALID_ARGUMENT naming it.
    /// </summary>
    public override async Task<SuspendMemberResponse> SuspendMember(SuspendMemberRequest request, ServerCallContext context)
    {
        var suspensions = Resolve<Suspension.MemberSuspensions>(context);
        await Resolve<AdminActions>(context).RunAsync(request.AdminToken, SuspendError.NotAuthorized, SuspendError.InternalError, MemberAdmin,
            "admin.suspend-member", Target(request.Uid),
            async _ =>
            {
                var until = SuspensionEnd(request, Resolve<TimeProvider>(context).GetUtcNow());
                if (!await suspensions.SuspendAsync(CheckedUid(request.Uid), until, context.CancellationToken))
                {
                    throw PanError.Of(SuspendError.UserNotFound, StatusCode.NotFound, "No such member.");
                }
            },
            context.CancellationToken);
        // Why after RunAsync: it returns once the suspension has committed with its queued app events.
        Resolve<AppEvents.AppEventOutbox>(context).Wake();
        return new SuspendMemberResponse();
    }

    /// <summary>Pan extension. Role member-admin. Lifts the member's suspension, if any. Errors: RestoreMemberResponse.Error.</summary>
    public override async Task<RestoreMemberResponse> RestoreMember(RestoreMemberRequest request, ServerCallContext context)
    {
        var suspensions = Resolve<Suspension.MemberSuspensions>(context);
        await Resolve<AdminActions>(context).RunAsync(request.AdminToken, RestoreError.NotAuthorized, RestoreError.InternalError, MemberAdmin,
            "admin.restore-member", Target(request.Uid),
            async _ =>
            {
                if (await suspensions.RestoreAsync(CheckedUid(request.Uid), context.CancellationToken) == Suspension.RestoreResult.NoSuchMember)
                {
                    throw PanError.Of(RestoreError.UserNotFound, StatusCode.NotFound, "No such member.");
                }
            },
            context.CancellationToken);
        Resolve<AppEvents.AppEventOutbox>(context).Wake();
        return new RestoreMemberResponse();
    }

    /// <summary>The requested end of a suspension (null: indefinite), or INVALID_ARGUMENT naming <c>until</c>.</summary>
    private static DateTimeOffset? SuspensionEnd(SuspendMemberRequest request, DateTimeOffset now)
    {
        if (Instant(request.Until, "until") is not { } end)
        {
            return null;
        }

        return Suspension.MemberSuspensions.CheckEnd(end, now) is { } problem ? throw PanError.InvalidArgument("until", problem) : end;
    }

    private static long CheckedUid(long uid) => uid > 0 ? uid : throw PanError.InvalidArgument("uid", "must be a positive member uid");

    private static string Target(long uid) => "uid:" + uid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static T Resolve<T>(ServerCallContext context)
        where T : notnull => context.GetHttpContext().RequestServices.GetRequiredService<T>();
}
