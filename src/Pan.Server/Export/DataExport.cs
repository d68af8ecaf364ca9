using System.Data;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Audit;
using Pan.General.Member;
using Pan.Server.Audit;
using Pan.Server.Data;
using Pan.Server.Deletion;
using Pan.Server.Errors;
using Pan.Server.Suspension;
using Pan.Server.Tokens;
using Err = Pan.General.Member.ExportMyDataResponse.Types.Error.Types.Value;

namespace Pan.Server.Export;

/// <summary>
/// ExportMyData (a Pan extension): the member of the access token downloads everything Pan holds about it as one JSON
/// document (<see cref="ExportDocument"/>). It needs a verify token of that member for <see cref="VerifyPurposes.ExportData"/>
/// (the SMS step-up or VerifyMemberByPassword), spent by the export, and one export per member per
/// <see cref="ExportOptions.MinutesBetweenExports"/> (counted from the audit log's <c>member.export-data</c> lines).
/// </summary>
/// <remarks>
/// One transaction, one snapshot: on PostgreSQL at REPEATABLE READ, so every read of the document sees the database as
/// of the transaction's first statement, and a logout, a new token or any other write committed while the export reads
/// is wholly in the document or wholly out (at READ COMMITTED each statement saw its own moment, and a document could
/// list a session whose tokens a later read no longer found). A serialization failure (a write it cannot be ordered
/// with: the member's row or the verify token changed after the snapshot) rolls everything back and the whole export
/// runs again, at most <see cref="MaxAttempts"/> times. SQLite's transaction holds the database's write lock from its
/// start, so nothing commits while it reads. It takes the member's row first (<see cref="LiveMembers.LockAsync"/>: an exclusive row lock, so two
/// exports of one member run one after the other and the second sees the first's audit line; a deletion or suspension
/// either commits first and is seen, or waits), reads the suspension, spends the verify token, checks the rate, reads
/// the document and writes the audit line. A refusal after the spend rolls it back: the token stays usable.
/// The document is never logged; the log line names the member's uid and the document's size only.
/// </remarks>
public sealed class DataExport(
    PanDbContext db, TokenService tokens, ExportDocument document, AuditLog audit, IOptions<ExportOptions> options, TimeProvider clock, ILogger<DataExport> logger)
{
    /// <summary>The audit action of an export, also what the rate counts.</summary>
    public const string AuditAction = "member.export-data";

    public const string ContentType = "application/json; charset=utf-8";

    public async Task<ExportMyDataResponse> ExportAsync(ExportMyDataRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.AccessToken))
        {
            throw PanError.Of(Err.TokenInvalid, StatusCode.InvalidArgument, "access_token is required.", new FieldViolation("access_token", "is required"));
        }

        if (string.IsNullOrEmpty(request.VerifyToken))
        {
            throw PanError.Of(Err.VerifyTokenInvalid, StatusCode.InvalidArgument, "verify_token is required.",
                new FieldViolation("verify_token", "is required: a verify_token for the operation \"export-data\""));
        }

        var caller = await tokens.ValidateAccessTokenAsync(request.AccessToken, cancellationToken) ?? throw TokenInvalid();
        // Why before the transaction (SECURITY 17): any app holding the access token may send a made-up verify token,
        // and the transaction starts by writing the member's row (a change every node hears; on SQLite the write
        // lock). Only the spend inside it decides.
        if (!await tokens.VerifyTokenIsLiveAsync(request.VerifyToken, caller.Uid, VerifyPurposes.ExportData, cancellationToken))
        {
            throw VerifyTokenInvalid();
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ExportInOneSnapshotAsync(caller, request.VerifyToken, cancellationToken);
            }
            catch (Exception ex) when (attempt < MaxAttempts && DbErrors.IsSerializationFailure(ex))
            {
                // Why clear: the failed attempt may have left its audit line tracked; the next attempt writes its own.
                db.ChangeTracker.Clear();
                logger.LogInformation("The export of member {Uid} met a concurrent write (attempt {Attempt}); running it again", caller.Uid, attempt);
            }
        }
    }

    /// <summary>How many times an export runs at most when PostgreSQL answers a serialization failure.</summary>
    public const int MaxAttempts = 3;

    private async Task<ExportMyDataResponse> ExportInOneSnapshotAsync(AccessTokenInfo caller, string verifyToken, CancellationToken cancellationToken)
    {
        await using var transaction = db.Database.IsNpgsql()
            ? await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken)
            : await db.Database.BeginTransactionAsync(cancellationToken);
        // Why: the token was checked before the transaction; a deletion committed since leaves nothing to export.
        if (!await LiveMembers.LockAsync(db, caller.Uid, cancellationToken))
        {
            throw TokenInvalid();
        }

        var now = clock.GetUtcNow();
        // Why after the hold: a suspension committing meanwhile is seen here (it also ended the token and the verify
        // tokens, so this only answers a race) and refuses like every other way in.
        await MemberSuspensions.RefuseAsync(db, caller.Uid, now, cancellationToken);
        if (!await tokens.ConsumeVerifyTokenAsync(verifyToken, caller.Uid, VerifyPurposes.ExportData, cancellationToken))
        {
            throw VerifyTokenInvalid();
        }

        if (await LastExportAsync(caller.Uid, now, cancellationToken) is { } last)
        {
            // Why thrown before the commit: the transaction rolls back with the verify token unspent.
            var wait = (int)Math.Ceiling((last.AddMinutes(options.Value.MinutesBetweenExports) - now).TotalSeconds);
            throw PanError.With(Err.TooSoon, StatusCode.ResourceExhausted,
                $"This member's data was exported moments ago; the next export is possible in {wait} s.", new Dictionary<string, string>(), Math.Max(wait, 1));
        }

        var json = await document.BuildAsync(caller, now, cancellationToken);
        await audit.WriteAsync(AuditLog.Member(caller.Uid), AuditAction, AuditLog.Member(caller.Uid), "ok", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Exported the data of member {Uid} ({Length} characters)", caller.Uid, json.Length);
        return new ExportMyDataResponse { Json = json, ContentType = ContentType, GeneratedAt = Timestamp.FromDateTimeOffset(now) };
    }

    /// <summary>When the member's last export within the rate's window was made, or null when there was none.</summary>
    private async Task<DateTimeOffset?> LastExportAsync(long uid, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var target = AuditLog.Member(uid);
        var since = now.AddMinutes(-options.Value.MinutesBetweenExports);
        // Why by target: ix_audit_log_target finds the member's few lines without reading the log.
        var last = await db.Set<AuditEntry>().AsNoTracking()
            .Where(e => e.Target == target && e.Action == AuditAction && e.Outcome == "ok" && e.At > since)
            .OrderByDescending(e => e.At)
            .Select(e => e.At)
            .Take(1)
            .ToListAsync(cancellationToken);
        return last.Count == 0 ? null : last[0];
    }

    private static RpcException VerifyTokenInvalid() =>
        PanError.Of(Err.VerifyTokenInvalid, StatusCode.PermissionDenied, "The verify_token is invalid, expired, used or for another operation; verify again.");

    private static RpcException TokenInvalid() =>
        PanError.Of(Err.TokenInvalid, StatusCode.Unauthenticated, "The access_token is invalid or expired.");

    internal static string Time(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
