using Fido2NetLib;
using Fido2NetLib.Exceptions;
using Fido2NetLib.Objects;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Passkeys;
using Pan.General.Member;
using Pan.Server.Audit;
using Pan.Server.Errors;
using Pan.Server.Network;
using Pan.Server.Sms;
using Pan.Server.Tokens;
using BeginErr = Pan.General.Member.BeginPasskeySignInResponse.Types.Error.Types.Value;
using FinishErr = Pan.General.Member.FinishPasskeySignInResponse.Types.Error.Types.Value;

namespace Pan.Server.Passkeys;

/// <summary>
/// Signing in with a passkey: BeginPasskeySignIn stores request options for discoverable credentials (no
/// allowCredentials) for <see cref="PasskeyOptions.ChallengeLifetime"/>; FinishPasskeySignIn spends them, checks the
/// assertion against the stored passkey and opens a member-bound session (<see cref="AuthMethods.Passkey"/>).
/// </summary>
/// <remarks>
/// <para>Refusals: an unknown, spent or expired sign_in_id is SignInInvalid; an unknown or deleted passkey, a bad
/// signature, a wrong challenge, origin or RP ID, a user handle that is not the passkey's member's, and a signature
/// counter that went back (both non-zero: a possible clone, audited) are one answer, CredentialRefused. A suspended member
/// gets what Login gives one (PERMISSION_DENIED MEMBER_SUSPENDED, from <see cref="TokenService"/>).</para>
/// <para>Rates per client address (<see cref="RateCounters"/>, shared by every node): begun sign-ins
/// (<see cref="PasskeyOptions.SignInsPerIpPerHour"/>) and failed finishes (<see cref="PasskeyOptions.FailuresPerIpPerHour"/>);
/// past the second a finish is refused before it spends anything.</para>
/// </remarks>
public sealed class PasskeySignIn(
    PanDbContext db,
    PasskeyCeremonies ceremonies,
    PasskeyChallenges challenges,
    TokenService tokens,
    RateCounters counters,
    AuditLog audit,
    IOptions<PasskeyOptions> options,
    TimeProvider clock,
    Metrics.PanMetrics metrics,
    ILogger<PasskeySignIn> logger)
{
    public async Task<BeginPasskeySignInResponse> BeginAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var fido = ceremonies.Require(BeginErr.PasskeysOff);
        var hit = await counters.HitAsync("passkey-sign-in:" + Address(http), options.Value.SignInsPerIpPerHour, cancellationToken);
        if (hit.RetryAfterSeconds is { } seconds)
        {
            throw TooMany(BeginErr.TooManyAttempts, seconds);
        }

        var assertion = fido.GetAssertionOptions(new GetAssertionOptionsParams
        {
            AllowedCredentials = [],
            UserVerification = options.Value.UserVerificationRequirement,
        });
        var json = assertion.ToJson();
        var id = await challenges.StartAsync(PasskeyChallenge.SignIn, null, json, cancellationToken);
        return new BeginPasskeySignInResponse { SignInId = id, OptionsJson = json };
    }

    public async Task<FinishPasskeySignInResponse> FinishAsync(FinishPasskeySignInRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        var fido = ceremonies.Require(FinishErr.PasskeysOff);
        if (string.IsNullOrEmpty(request.SignInId))
        {
            throw PanError.InvalidArgument("sign_in_id", "is required");
        }

        var raw = PasskeyJson.Assertion(request.CredentialJson);
        // Why a place is taken before the check and given back unless it failed: finishes from one address run together
        // each take one, so no more than FailuresPerIpPerHour are checked and refused in a window
        // (PasskeyBehaviour.ParallelFailedSignIns_NeverPassTheHourlyLimit_AndACorrectOneCountsNoFailure); a sign-in that
        // succeeds (or ends for another reason, such as a suspension) counts no failure.
        var place = await counters.TakeAsync("passkey-failure:" + Address(http), options.Value.FailuresPerIpPerHour, cancellationToken);
        if (place.RetryAfterSeconds is { } wait)
        {
            throw TooMany(FinishErr.TooManyAttempts, wait);
        }

        RpcException? failure = null;
        try
        {
            (var signedIn, failure) = await CheckAsync(fido, request, raw, cancellationToken);
            return signedIn ?? throw failure!;
        }
        finally
        {
            if (failure is null)
            {
                // Why not the call's token: a cancelled call still gives its place back.
                await counters.GiveBackAsync(place, CancellationToken.None);
            }
        }
    }

    /// <summary>Spends the sign-in and checks the assertion: the signed-in session, or the failure that keeps the finish's place.</summary>
    private async Task<(FinishPasskeySignInResponse? SignedIn, RpcException? Failure)> CheckAsync(
        IFido2 fido, FinishPasskeySignInRequest request, AuthenticatorAssertionRawResponse raw, CancellationToken cancellationToken)
    {
        var optionsJson = await challenges.SpendAsync(request.SignInId, PasskeyChallenge.SignIn, null, cancellationToken);
        if (optionsJson is null)
        {
            metrics.SignIn(Metrics.SignInMethods.Passkey, Metrics.SignInOutcomes.Wrong);
            return (null, PanError.Of(FinishErr.SignInInvalid, StatusCode.FailedPrecondition,
                "No live sign-in has this sign_in_id (unknown, used or expired); begin again."));
        }

        var passkey = await (
                from p in db.Set<MemberPasskey>()
                join m in db.Members on p.Uid equals m.Uid
                join u in db.Set<PasskeyUser>() on p.Uid equals u.Uid
                where p.CredentialId == raw.RawId && m.Deleted == null
                select new { p.Id, p.Uid, p.PublicKey, p.SignCount, u.UserHandle, m.ObjectId, m.AccountId })
            .AsNoTracking().FirstOrDefaultAsync(cancellationToken);
        if (passkey is null)
        {
            return (null, await RefusedAsync(null, "unknown credential", cancellationToken));
        }

        // Why: with no allowCredentials the user handle is how the member is found (WebAuthn 7.2 step 6); one without it is
        // no discoverable credential's answer.
        if (raw.Response.UserHandle is not { Length: > 0 })
        {
            return (null, await RefusedAsync(passkey.Uid, "denied: no user handle", cancellationToken));
        }

        VerifyAssertionResult verified;
        try
        {
            verified = await fido.MakeAssertionAsync(new MakeAssertionParams
            {
                AssertionResponse = raw,
                OriginalOptions = AssertionOptions.FromJson(optionsJson),
                StoredPublicKey = passkey.PublicKey,
                StoredSignatureCounter = (uint)passkey.SignCount,
                IsUserHandleOwnerOfCredentialIdCallback = (p, _) => Task.FromResult(p.UserHandle.AsSpan().SequenceEqual(passkey.UserHandle)),
            }, cancellationToken);
        }
        catch (Exception ex) when (PasskeyJson.IsRefusal(ex))
        {
            var outcome = ex is Fido2VerificationException { Code: Fido2ErrorCode.InvalidSignCount }
                ? "denied: the signature counter went back (possible clone)"
                : "denied: " + ((ex as Fido2VerificationException)?.Code.ToString() ?? "unreadable assertion");
            return (null, await RefusedAsync(passkey.Uid, outcome, cancellationToken));
        }

        var now = clock.GetUtcNow();
        var auth = await Metrics.SignIns.CountAsync(metrics, Metrics.SignInMethods.Passkey, () => tokens.IssueAuthTokenAsync(AuthMethods.Passkey, async ct =>
        {
            // Why conditional on the counter read: two sign-ins with one assertion's counter, or one racing the passkey's
            // deletion, cannot both pass; the loser is refused like a replay.
            var updated = await db.Set<MemberPasskey>()
                .Where(p => p.Id == passkey.Id && p.SignCount == passkey.SignCount)
                .ExecuteUpdateAsync(u => u.SetProperty(p => p.SignCount, (long)verified.SignCount).SetProperty(p => p.LastUsed, now), ct);
            return updated == 1 ? new AuthSubject(passkey.Uid, passkey.ObjectId, passkey.AccountId) : null;
        }, cancellationToken));
        if (auth is null)
        {
            return (null, await RefusedAsync(passkey.Uid, "denied: the passkey changed meanwhile (deleted or used at once)", cancellationToken));
        }

        metrics.SignIn(Metrics.SignInMethods.Passkey, Metrics.SignInOutcomes.Ok);
        return (new FinishPasskeySignInResponse { AuthToken = auth.Token, Expires = Timestamp.FromDateTimeOffset(auth.Expires) }, null);
    }

    /// <summary>Audits a refused finish when it names a member (else logs it) and answers CredentialRefused.</summary>
    private async Task<RpcException> RefusedAsync(long? uid, string outcome, CancellationToken cancellationToken)
    {
        metrics.SignIn(Metrics.SignInMethods.Passkey, Metrics.SignInOutcomes.Wrong);
        if (uid is { } member)
        {
            await audit.WriteAsync("passkey", PasskeyStore.SignInAction, AuditLog.Member(member), outcome, cancellationToken);
        }
        else
        {
            logger.LogInformation("Refused a passkey sign-in: {Outcome}", outcome);
        }

        return PanError.Of(FinishErr.CredentialRefused, StatusCode.PermissionDenied, "The passkey was refused.");
    }

    private static string Address(HttpContext http) => SmsKeys.Ip(ClientAddress.Of(http)) ?? "unknown";

    private static RpcException TooMany<TError>(TError error, int seconds)
        where TError : struct, System.Enum =>
        PanError.With(error, StatusCode.ResourceExhausted, "Too many passkey sign-ins from this address; try again later.",
            new Dictionary<string, string>(), seconds);
}
