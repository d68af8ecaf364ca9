using Pan.Data.Email;
using Pan.Server.Credentials;
using Pan.Server.Email;

namespace Pan.Server.Recovery;

/// <summary>What the reset page shows for a live link: the member's security question (null when none) and where to go afterwards.</summary>
public sealed record LinkResetForm(string? Question, Uri? Redirect);

/// <summary>The outcome of a reset through the page: done, refused (and why), or the link is no longer usable.</summary>
public sealed record LinkResetResult(bool LinkDead, ResetCheck Check, Uri? Redirect)
{
    public bool Done => !LinkDead && Check.Refusal == ResetRefusal.None;
}

/// <summary>
/// The hosted reset page's steps (/account/reset-password?token=…): opening the link only reads (mail scanners that
/// fetch links change nothing); submitting the form checks the password like AuthResetUpdate, then consumes the link
/// (which also kills the mailed code) and sets the password in one transaction. A refused password leaves the link usable.
/// </summary>
public sealed class LinkReset(EmailCodes codes, RecoveryMembers members, CredentialStore credentials, ResetCompletion completion)
{
    public async Task<LinkResetForm?> OpenAsync(string? token, CancellationToken cancellationToken)
    {
        var challenge = await FindAsync(token, cancellationToken);
        return challenge is null ? null : new LinkResetForm(await credentials.SecurityQuestionAsync(challenge.Uid, cancellationToken), Redirect(challenge));
    }

    public async Task<LinkResetResult> SubmitAsync(string? token, string? password, string? confirm, string? answer, CancellationToken cancellationToken)
    {
        var challenge = await FindAsync(token, cancellationToken);
        if (challenge is null)
        {
            return new LinkResetResult(true, ResetCheck.Ok, null);
        }

        var check = await completion.CheckAsync(challenge.Uid, password, confirm, answer, cancellationToken);
        if (check.Refusal != ResetRefusal.None)
        {
            return new LinkResetResult(false, check, null);
        }

        if (!await completion.FinishAsync(challenge.Uid, password!, ResetChannels.Email, ct => codes.ConsumeAsync(challenge, ct), cancellationToken))
        {
            return new LinkResetResult(true, ResetCheck.Ok, null);
        }

        return new LinkResetResult(false, ResetCheck.Ok, Redirect(challenge));
    }

    private async Task<EmailCode?> FindAsync(string? token, CancellationToken cancellationToken)
    {
        var challenge = await codes.FindByLinkAsync(token, EmailPurposes.Reset, cancellationToken);
        return challenge is not null && await members.StillHasAsync(challenge, cancellationToken) ? challenge : null;
    }

    private static Uri? Redirect(EmailCode challenge) =>
        challenge.Redirect is { } r && Uri.TryCreate(r, UriKind.Absolute, out var uri) ? uri : null;
}
