using Google.Rpc;
using Grpc.Core;

namespace Pan.Tests.Infrastructure;

/// <summary>Reads Pan's error model off an <see cref="RpcException"/>.</summary>
public static class Errors
{
    public static ErrorInfo Info(this RpcException ex) =>
        ex.GetRpcStatus()?.GetDetail<ErrorInfo>() ?? throw new Xunit.Sdk.XunitException($"No ErrorInfo in {ex.Status}");

    /// <summary>Asserts the call failed with <paramref name="code"/> and the seed error <paramref name="reason"/> (e.g. ErrLogin.CODE_INVALID).</summary>
    public static async Task<RpcException> ExpectAsync(Func<Task> call, StatusCode code, string reason)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, ex.StatusCode);
        Assert.Equal(reason, ex.Info().Reason);
        return ex;
    }

    /// <summary>Null when the call succeeded, else the error reason; INTERNAL or a missing ErrorInfo fails the test (for races whose either outcome is allowed).</summary>
    public static async Task<string?> ReasonOfAsync(Func<Task> call)
    {
        try
        {
            await call();
            return null;
        }
        catch (RpcException ex)
        {
            Assert.NotEqual(StatusCode.Internal, ex.StatusCode);
            return ex.Info().Reason;
        }
    }

    public static BadRequest? BadRequest(this RpcException ex) => ex.GetRpcStatus()?.GetDetail<BadRequest>();
}
