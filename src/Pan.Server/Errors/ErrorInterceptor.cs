using System.Data.Common;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Pan.Server.Errors;

/// <summary>
/// Last line of the error model: an <see cref="RpcException"/> passes through untouched; a database that
/// cannot be reached fails closed as UNAVAILABLE; a concurrency conflict no feature mapped to its own code is ABORTED
/// CONFLICT; a refused sign-in of a suspended member is PERMISSION_DENIED MEMBER_SUSPENDED, a blocked phone number PERMISSION_DENIED PHONE_BLOCKED; anything else is logged and becomes INTERNAL without
/// leaking exception text to the caller.
/// </summary>
public sealed class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (RpcException)
        {
            throw;
        }
        catch (Suspension.MemberSuspendedException suspended)
        {
            // Why here: every sign-in that opens a session checks the member in its own transaction (TokenService), so
            // the refusal is one exception for all of them, answered alike (PERMISSION_DENIED MEMBER_SUSPENDED).
            throw suspended.ToRpcException();
        }
        catch (PhoneBlocks.PhoneBlockedException blocked)
        {
            // Why here: the SMS gate and the account writes refuse a blocked number wherever a flow reaches them.
            throw blocked.ToRpcException();
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            logger.LogWarning(ex, "Dependency unavailable during {Method}", context.Method);
            throw PanError.Plain(StatusCode.Unavailable, "UNAVAILABLE", "A backing service is unavailable; try again shortly.");
        }
        catch (Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException)
        {
            // Why: a concurrent writer changed or removed the row the call read; retrying is the right client reaction.
            throw PanError.Plain(StatusCode.Aborted, "CONFLICT", "The data changed meanwhile; try again.");
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Unhandled failure in {Method}", context.Method);
            throw PanError.Plain(StatusCode.Internal, "INTERNAL", "Internal error.");
        }
    }

    /// <summary>True when the failure is the database (or another dependency) being unreachable, not a bug.</summary>
    public static bool IsOutage(Exception ex) => ex switch
    {
        DependencyUnavailableException => true,
        TimeoutException => true,
        Npgsql.NpgsqlException { IsTransient: true } => true,
        Npgsql.NpgsqlException { InnerException: System.Net.Sockets.SocketException } => true,
        Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 5 or 6 or 10 or 14 } => true, // BUSY, LOCKED, IOERR, CANTOPEN
        DbException { InnerException: { } inner } => IsOutage(inner),
        Microsoft.EntityFrameworkCore.DbUpdateException { InnerException: { } inner } => IsOutage(inner),
        InvalidOperationException { InnerException: { } inner } => IsOutage(inner),
        // Why: once the database drops a connection, the driver ends the transaction on it, and the next command the
        // same operation runs in that transaction (a row hold, a query, a write) fails with this, without the cause.
        InvalidOperationException { Source: "Npgsql", InnerException: null, Message: "Transaction is already completed" } => true,
        _ => false,
    };
}

/// <summary>Thrown by adapters (SMS, email, captcha, databases) when their dependency cannot be reached.</summary>
public sealed class DependencyUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
