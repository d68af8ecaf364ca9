using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>What the half-written suites (SECURITY 21) share: how a failed write looks to a gRPC caller, and step-up tokens.</summary>
public static class HalfWrittenChecks
{
    /// <summary>What the caller of a failed write sees: INTERNAL, Pan's generic reason, none of the database's text.</summary>
    public static async Task ExpectInternalAsync(Func<Task> call)
    {
        var error = await Errors.ExpectAsync(call, StatusCode.Internal, "INTERNAL");
        Assert.DoesNotContain(FailureTriggers.Message, error.Status.Detail, StringComparison.Ordinal);
        Assert.Null(error.BadRequest());
    }

    /// <summary>A step-up token for <paramref name="purpose"/>, as the SMS step-up would issue it.</summary>
    public static async Task<string> VerifyTokenAsync(PanServer server, long uid, string purpose)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(uid, purpose, default)).Token;
    }
}
