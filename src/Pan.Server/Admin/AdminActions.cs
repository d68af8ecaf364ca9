using Google.Rpc;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Server.Audit;
using Pan.Server.Errors;

namespace Pan.Server.Admin;

/// <summary>
/// Runs one admin action: checks the admin token (UNAUTHENTICATED NotAuthorized when missing, unknown, expired or its
/// admin was removed) and the role (PERMISSION_DENIED NotAuthorized), runs the action and writes its audit line in one
/// transaction, so the action commits only with its line. A failed or refused attempt gets its line after the rollback,
/// so every attempt, allowed or not, leaves exactly one line in <c>audit_log</c> — unless the database refuses that
/// line too, which is logged (the attempt changed nothing, and its own answer stands).
/// </summary>
/// <remarks>
/// Failures that are not the RPC's own (the database refusing a write, the audit line included, or a bug) answer the
/// RPC's code for an internal failure with status INTERNAL, never a bare INTERNAL; an outage stays UNAVAILABLE and a
/// conflict no feature mapped stays ABORTED (<see cref="ErrorInterceptor"/>). A call cancelled before its commit
/// (client gone, deadline) rolls back and writes no line: nothing happened.
/// </remarks>
public sealed class AdminActions(PanDbContext db, AdminDirectory admins, AuditLog audit, ILogger<AdminActions> logger)
{
    /// <summary>Actor of an audit entry whose admin token was not valid.</summary>
    public const string UnknownActor = "unknown";

    /// <param name="internalFailure">The RPC's seed code for an internal failure (answered with status INTERNAL).</param>
    public Task RunAsync<TEnum>(
        string adminToken, TEnum notAuthorized, TEnum internalFailure, string[] roles, string action, string target, Func<AdminPrincipal, Task> body,
        CancellationToken cancellationToken)
        where TEnum : struct, System.Enum =>
        RunAsync(adminToken, notAuthorized, internalFailure, roles, action, target, _ => Task.FromResult(true), (admin, _) => body(admin), cancellationToken);

    /// <summary>
    /// As above, with a step that runs once the admin and the role are checked but before the transaction opens:
    /// <paramref name="prepare"/> does the slow work (a password hash) and checks what needs no transaction, and
    /// <paramref name="body"/> writes its result in the transaction. Why: on SQLite a transaction holds the database's
    /// one write lock, so work done inside it stalls every other writer. A refusal in either step is audited alike.
    /// </summary>
    public async Task RunAsync<TEnum, TPrepared>(
        string adminToken, TEnum notAuthorized, TEnum internalFailure, string[] roles, string action, string target,
        Func<AdminPrincipal, Task<TPrepared>> prepare, Func<AdminPrincipal, TPrepared, Task> body, CancellationToken cancellationToken)
        where TEnum : struct, System.Enum
    {
        var admin = await admins.ValidateAsync(adminToken, cancellationToken);
        if (admin is null)
        {
            await WriteAttemptAsync(UnknownActor, action, target, "denied: no valid admin token");
            throw PanError.Of(notAuthorized, StatusCode.Unauthenticated, "A valid admin_token is required.");
        }

        if (!admin.HasAnyRole(roles))
        {
            await WriteAttemptAsync(admin.Email, action, target, $"denied: needs role {string.Join(" or ", roles)}");
            throw PanError.Of(notAuthorized, StatusCode.PermissionDenied, $"This needs the role {string.Join(" or ", roles)}.");
        }

        var prepared = default(TPrepared)!;
        await RecordAsync(() => admin.Email, action, target, async () => prepared = await prepare(admin), () => body(admin, prepared),
            () => PanError.Of(internalFailure, StatusCode.Internal, "The change could not be saved; nothing was changed."), cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="prepare"/> (outside any transaction: a step that waits on another service must not hold
    /// one open), then <paramref name="body"/> and the success line in one transaction, and audits the outcome.
    /// <paramref name="actor"/> is read after the steps ran (an action such as sign-in learns who acts only on the way).
    /// </summary>
    /// <param name="internalFailure">The RPC's error for a failure that is not its own; null: the RPC has no vocabulary for it.</param>
    public async Task RecordAsync(
        Func<string> actor, string action, string target, Func<Task>? prepare, Func<Task> body, Func<RpcException>? internalFailure,
        CancellationToken cancellationToken)
    {
        try
        {
            if (prepare is not null)
            {
                await prepare();
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await body();
            await audit.WriteAsync(actor(), action, target, "ok", cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The transaction (disposed above) has rolled back: nothing of the action stays.
            var answer = ex is RpcException or DbUpdateConcurrencyException || ErrorInterceptor.IsOutage(ex) || internalFailure is null
                ? null
                : internalFailure();
            if (answer is not null)
            {
                logger.LogError(ex, "Admin action {Action} on {Target} failed", action, AuditLog.ForLog(target));
            }

            await WriteAttemptAsync(actor(), action, target, Outcome(answer ?? ex));
            if (answer is null)
            {
                throw;
            }

            throw answer;
        }
    }

    private static string Outcome(Exception ex) => ex is RpcException rpc
        ? rpc.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason ?? rpc.StatusCode.ToString()
        : "error: " + ex.GetType().Name;

    /// <summary>The line of an attempt that changed nothing (refused, or failed and rolled back).</summary>
    private async Task WriteAttemptAsync(string actor, string action, string target, string outcome)
    {
        try
        {
            await audit.WriteAsync(actor, action, target, outcome, CancellationToken.None);
        }
        catch (Exception auditFailure) when (auditFailure is not OperationCanceledException)
        {
            // Why not fail the call: nothing was changed, and the attempt's own answer is what the caller must see (the
            // database may be away, for the same reason the action failed). The operator learns of the lost line here.
            logger.LogError(auditFailure, "Could not write the audit entry for {Action} on {Target} by {Actor}: {Outcome}", action, AuditLog.ForLog(target), Members.EmailAddresses.ForLog(actor), outcome);
        }
    }
}
