using Google.Rpc;
using Grpc.Core;
using Pan.Data;
using Pan.Server.Audit;
using Pan.Server.Errors;

namespace Pan.Server.Admin;

/// <summary>
/// Runs one admin action: checks the admin token (UNAUTHENTICATED NotAuthorized when missing, unknown, expired or its
/// admin was removed) and the role (PERMISSION_DENIED NotAuthorized), runs the action in one transaction and writes the
/// audit entry — inside that transaction on success, after the rollback on failure — so every attempt, allowed or not,
/// leaves exactly one line in <c>audit_log</c>.
/// </summary>
public sealed class AdminActions(PanDbContext db, AdminDirectory admins, AuditLog audit, ILogger<AdminActions> logger)
{
    /// <summary>Actor of an audit entry whose admin token was not valid.</summary>
    public const string UnknownActor = "unknown";

    public async Task RunAsync<TEnum>(
        string adminToken, TEnum notAuthorized, string[] roles, string action, string target, Func<AdminPrincipal, Task> body, CancellationToken cancellationToken)
        where TEnum : struct, System.Enum
    {
        var admin = await admins.ValidateAsync(adminToken, cancellationToken);
        if (admin is null)
        {
            await audit.WriteAsync(UnknownActor, action, target, "denied: no valid admin token", cancellationToken);
            throw PanError.Of(notAuthorized, StatusCode.Unauthenticated, "A valid admin_token is required.");
        }

        if (!admin.HasAnyRole(roles))
        {
            await audit.WriteAsync(admin.Email, action, target, $"denied: needs role {string.Join(" or ", roles)}", cancellationToken);
            throw PanError.Of(notAuthorized, StatusCode.PermissionDenied, $"This needs the role {string.Join(" or ", roles)}.");
        }

        await RecordAsync(() => admin.Email, action, target, () => body(admin), transactional: true, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="body"/> and audits its outcome. <paramref name="actor"/> is read after the body ran (an
    /// action such as sign-in learns who acts only on the way). With <paramref name="transactional"/> the body and the
    /// success entry commit together; without (an action that waits on another service, which must not hold a database
    /// transaction open meanwhile) the entry is written after the body.
    /// </summary>
    public async Task RecordAsync(Func<string> actor, string action, string target, Func<Task> body, bool transactional, CancellationToken cancellationToken)
    {
        var transaction = transactional ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        try
        {
            await body();
            await audit.WriteAsync(actor(), action, target, "ok", cancellationToken);
            if (transaction is not null)
            {
                await transaction.CommitAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (transaction is not null)
            {
                await transaction.RollbackAsync(CancellationToken.None);
            }

            await WriteFailureAsync(actor(), action, target, ex);
            throw;
        }
        finally
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }
        }
    }

    private async Task WriteFailureAsync(string actor, string action, string target, Exception ex)
    {
        var outcome = ex is RpcException rpc
            ? rpc.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason ?? rpc.StatusCode.ToString()
            : "error: " + ex.GetType().Name;
        try
        {
            await audit.WriteAsync(actor, action, target, outcome, CancellationToken.None);
        }
        catch (Exception auditFailure) when (ErrorInterceptor.IsOutage(auditFailure))
        {
            // Why: the database is away (the action failed for the same reason); the action's own error is what the caller must see.
            logger.LogError(auditFailure, "Could not write the audit entry for {Action} on {Target} by {Actor}: {Outcome}", action, target, actor, outcome);
        }
    }
}
