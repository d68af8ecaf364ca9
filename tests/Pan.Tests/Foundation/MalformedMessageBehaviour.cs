using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pan.General.Member;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>Request messages protobuf refuses. Field 1 of ValidateDisplayNameV2Request is the string display_name.</summary>
public enum UndecodableMessage
{
    /// <summary>Field 1 declares 3 bytes and 1 follows.</summary>
    Truncated,

    /// <summary>Field 1 holds 0xFF 0xFE, which is not UTF-8.</summary>
    InvalidUtf8,

    /// <summary>Field 1 arrives as an end-group tag (wire type 4) that closes no group.</summary>
    WrongWireType,

    /// <summary>Field 1 arrives with wire type 7, which protobuf does not define.</summary>
    UndefinedWireType,
}

/// <summary>Every undecodable message on every transport, for theories.</summary>
public static class UndecodableMessages
{
    public static TheoryData<UndecodableMessage, FrameTransport> OnEveryTransport()
    {
        var data = new TheoryData<UndecodableMessage, FrameTransport>();
        foreach (var garbage in Enum.GetValues<UndecodableMessage>())
        {
            foreach (var transport in Enum.GetValues<FrameTransport>())
            {
                data.Add(garbage, transport);
            }
        }

        return data;
    }
}

/// <summary>
/// SECURITY 17 for what arrives before any endpoint code runs: a gRPC request message that cannot be decoded answers
/// INVALID_ARGUMENT (with Pan's ErrorInfo), never UNKNOWN or INTERNAL, on native gRPC and both gRPC-Web modes, and
/// writes no Error log line; well-formed calls to the same method keep working.
/// </summary>
public abstract partial class MalformedMessageBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : MalformedMessageFixture
{
    private const string ValidateName = "pan.general.member.MemberServiceV2/ValidateDisplayNameV2";

    private PanServer Server => fixture.Server;

    [Theory]
    [MemberData(nameof(UndecodableMessages.OnEveryTransport), MemberType = typeof(UndecodableMessages))]
    public async Task UndecodableMessage_IsInvalidArgument_WithoutAnErrorLog(UndecodableMessage garbage, FrameTransport transport)
    {
        await AssertRefusedThenServedAsync(transport, GrpcFrames.Frame(Bytes(garbage)));
    }

    [Fact]
    public async Task UndecodableMessage_ThroughGrpcNetClient_IsInvalidArgument_AndTheNextCallWorks()
    {
        Assert.Equal(StatusCode.InvalidArgument, await RawGrpc.CallAsync(
            Server.Grpc, "pan.general.member.MemberServiceV2", "ValidateDisplayNameV2", Bytes(UndecodableMessage.InvalidUtf8)));

        var client = new MemberServiceV2.MemberServiceV2Client(Server.Grpc);
        await client.ValidateDisplayNameV2Async(new ValidateDisplayNameV2Request { DisplayName = NewName() });
    }

    // Why every mapped method, not one: a service class mapped without Pan's guarded binding decodes with grpc-dotnet's
    // plain marshaller again, and only a call to it shows that.
    [Fact]
    public async Task EveryMappedGrpcMethod_AnswersAnUndecodableMessage_WithInvalidArgument()
    {
        var methods = Server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method)
            .OfType<IMethod>()
            .Select(m => m.FullName.TrimStart('/'))
            .Distinct()
            .ToList();
        Assert.Contains("grpc.reflection.v1.ServerReflection/ServerReflectionInfo", methods);
        Assert.Contains("grpc.health.v1.Health/Check", methods);
        Assert.Contains(ValidateName, methods);

        var failures = new List<string>();
        foreach (var method in methods)
        {
            var answer = await GrpcFrames.SendAsync(Server, FrameTransport.Grpc, method, GrpcFrames.Frame(Bytes(UndecodableMessage.UndefinedWireType)));
            if (answer.Status != StatusCode.InvalidArgument)
            {
                failures.Add($"{method}: {answer}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static byte[] Bytes(UndecodableMessage garbage) => garbage switch
    {
        UndecodableMessage.Truncated => [0x0a, 0x03, 0x70],
        UndecodableMessage.InvalidUtf8 => [0x0a, 0x02, 0xff, 0xfe],
        UndecodableMessage.WrongWireType => [0x0c],
        UndecodableMessage.UndefinedWireType => [0x0f],
        _ => throw new ArgumentOutOfRangeException(nameof(garbage)),
    };

    private static byte[] ValidRequest() => new ValidateDisplayNameV2Request { DisplayName = NewName() }.ToByteArray();

    private static string NewName() => "frames" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// Sends <paramref name="body"/> to ValidateDisplayNameV2 and expects INVALID_ARGUMENT; then a valid request on the
    /// same transport (<paramref name="valid"/>, else a plain frame) is served; no Error line is logged meanwhile.
    /// </summary>
    private async Task AssertRefusedThenServedAsync(
        FrameTransport transport, byte[] body, bool encodeText = true, string? grpcEncoding = null, byte[]? valid = null)
    {
        var before = fixture.Logs.Lines.Count;
        AssertInvalidArgument(await GrpcFrames.SendAsync(Server, transport, ValidateName, body, encodeText, grpcEncoding));
        var served = await GrpcFrames.SendAsync(Server, transport, ValidateName, valid ?? GrpcFrames.Frame(ValidRequest()), grpcEncoding: grpcEncoding);
        Assert.True(served.Status == StatusCode.OK, served.ToString());
        AssertNoErrorLogged(before);
    }

    private static void AssertInvalidArgument(GrpcAnswer answer)
    {
        Assert.True(answer.Status == StatusCode.InvalidArgument, answer.ToString());
        Assert.False(string.IsNullOrWhiteSpace(answer.Message), answer.ToString());
        Assert.True(answer.Info is { Domain: "pan", Reason: "INVALID_ARGUMENT" }, answer.ToString());
    }

    private void AssertNoErrorLogged(int before)
    {
        var errors = fixture.Logs.Lines.Skip(before)
            .Where(l => l.Contains(" Error: ", StringComparison.Ordinal) || l.Contains(" Critical: ", StringComparison.Ordinal))
            .ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }
}

/// <summary>A server whose log lines (Warning and above, the test servers' level) are captured.</summary>
public abstract class MalformedMessageFixture : ServerFixture
{
    public LogCapture Logs { get; } = new();

    protected override void ConfigureServer(WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);
}

public sealed class SqliteMalformedMessageFixture : MalformedMessageFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresMalformedMessageFixture : MalformedMessageFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

public sealed class MalformedMessageBehaviour_Sqlite(SqliteMalformedMessageFixture f) : MalformedMessageBehaviour<SqliteMalformedMessageFixture>(f);

public sealed class MalformedMessageBehaviour_Postgres(PostgresMalformedMessageFixture f) : MalformedMessageBehaviour<PostgresMalformedMessageFixture>(f);
