using Grpc.Core;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>Request bodies whose gRPC framing is broken (each frame: a compressed flag, a 4-byte length, the message).</summary>
public enum BrokenFrame
{
    /// <summary>The length says 100 bytes and 3 follow.</summary>
    EndsInsideMessage,

    /// <summary>Three bytes: not even a whole frame header.</summary>
    EndsInsideHeader,

    /// <summary>An empty body for a unary call.</summary>
    NoMessage,

    /// <summary>Two whole messages for a unary call.</summary>
    TwoMessages,

    /// <summary>A whole message, then two stray bytes.</summary>
    TrailingBytes,

    /// <summary>A compressed flag of 2 (only 0 and 1 exist).</summary>
    UnknownCompressedFlag,

    /// <summary>A compressed flag of 1 on a request that names no grpc-encoding.</summary>
    CompressedWithoutEncoding,
}

/// <summary>Every broken frame on every transport, for theories.</summary>
public static class BrokenFrames
{
    public static TheoryData<BrokenFrame, FrameTransport> OnEveryTransport()
    {
        var data = new TheoryData<BrokenFrame, FrameTransport>();
        foreach (var frame in Enum.GetValues<BrokenFrame>())
        {
            foreach (var transport in Enum.GetValues<FrameTransport>())
            {
                data.Add(frame, transport);
            }
        }

        return data;
    }
}

public abstract partial class MalformedMessageBehaviour<TFixture>
{
    [Theory]
    [MemberData(nameof(BrokenFrames.OnEveryTransport), MemberType = typeof(BrokenFrames))]
    public async Task BrokenFraming_IsInvalidArgument_WithoutAnErrorLog(BrokenFrame broken, FrameTransport transport)
    {
        await AssertRefusedThenServedAsync(transport, Body(broken));
    }

    // Why: a message that arrives in many reads passes through the frame and base64 checks read by read.
    [Theory]
    [InlineData(FrameTransport.Grpc)]
    [InlineData(FrameTransport.GrpcWeb)]
    [InlineData(FrameTransport.GrpcWebText)]
    public async Task LargeWellFormedMessage_IsDecoded_OnEveryTransport(FrameTransport transport)
    {
        // Field 15 (length-delimited, 1 MiB) is not in the contract; protobuf skips unknown fields.
        var padding = new byte[1024 * 1024];
        Random.Shared.NextBytes(padding);
        byte[] message = [.. ValidRequest(), 0x7a, 0x80, 0x80, 0x40, .. padding];
        var answer = await GrpcFrames.SendAsync(Server, transport, ValidateName, GrpcFrames.Frame(message));

        Assert.True(answer.Status == StatusCode.OK, answer.ToString());
    }

    // Why: a length of 2³² − 1 is a message over the size limit, like any length above 8 MB.
    [Theory]
    [InlineData(FrameTransport.Grpc)]
    [InlineData(FrameTransport.GrpcWeb)]
    [InlineData(FrameTransport.GrpcWebText)]
    public async Task LengthBeyondAnyMessage_IsResourceExhausted_WithoutAnErrorLog(FrameTransport transport)
    {
        var before = fixture.Logs.Lines.Count;
        var answer = await GrpcFrames.SendAsync(Server, transport, ValidateName, [.. GrpcFrames.Header(0, uint.MaxValue), 1, 2, 3]);

        Assert.True(answer.Status == StatusCode.ResourceExhausted, answer.ToString());
        AssertNoErrorLogged(before);
    }

    [Theory]
    [InlineData("!!!!!!!!")]
    [InlineData("AAAAAAA*")]
    [InlineData("AAAA AAA")]
    [InlineData("A===")]
    [InlineData("AA=A")]
    [InlineData("AAAAA")]
    [InlineData("AAA")]
    public async Task GrpcWebTextBody_ThatIsNotBase64_IsInvalidArgument_WithoutAnErrorLog(string body)
    {
        await AssertRefusedThenServedAsync(FrameTransport.GrpcWebText, System.Text.Encoding.ASCII.GetBytes(body), encodeText: false);
    }

    [Theory]
    [InlineData(FrameTransport.Grpc)]
    [InlineData(FrameTransport.GrpcWeb)]
    [InlineData(FrameTransport.GrpcWebText)]
    public async Task CompressedMessage_ThatDoesNotDecompress_IsInvalidArgument_WithoutAnErrorLog(FrameTransport transport)
    {
        // Why these bytes: a gzip header naming compression method 9, which does not exist.
        byte[] notGzip = [0x1f, 0x8b, 9, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3, 4];
        await AssertRefusedThenServedAsync(
            transport, GrpcFrames.Frame(notGzip, flag: 1), grpcEncoding: "gzip", valid: GrpcFrames.Frame(GrpcFrames.Gzip(ValidRequest()), flag: 1));
    }

    // Why: Pan's decompression wraps grpc-dotnet's gzip; the size limit must still hold for what comes out of it.
    [Fact]
    public async Task CompressedMessage_OverTheLimitOnceDecompressed_IsResourceExhausted()
    {
        var bomb = GrpcFrames.Gzip(new byte[16 * 1024 * 1024]);
        var answer = await GrpcFrames.SendAsync(Server, FrameTransport.Grpc, ValidateName, GrpcFrames.Frame(bomb, flag: 1), grpcEncoding: "gzip");

        Assert.True(answer.Status == StatusCode.ResourceExhausted, answer.ToString());
    }

    [Fact]
    public async Task StreamingCall_EndingInsideAMessage_IsInvalidArgument()
    {
        var answer = await GrpcFrames.SendAsync(
            Server, FrameTransport.Grpc, "grpc.reflection.v1.ServerReflection/ServerReflectionInfo", [.. GrpcFrames.Header(0, 100), 1, 2, 3]);

        AssertInvalidArgument(answer);
    }

    private static byte[] Body(BrokenFrame broken)
    {
        var message = GrpcFrames.Frame(ValidRequest());
        return broken switch
        {
            BrokenFrame.EndsInsideMessage => [.. GrpcFrames.Header(0, 100), 1, 2, 3],
            BrokenFrame.EndsInsideHeader => [0, 0, 0],
            BrokenFrame.NoMessage => [],
            BrokenFrame.TwoMessages => [.. message, .. message],
            BrokenFrame.TrailingBytes => [.. message, 0, 0],
            BrokenFrame.UnknownCompressedFlag => GrpcFrames.Frame(ValidRequest(), flag: 2),
            BrokenFrame.CompressedWithoutEncoding => GrpcFrames.Frame(ValidRequest(), flag: 1),
            _ => throw new ArgumentOutOfRangeException(nameof(broken)),
        };
    }
}
