using Grpc.Net.Client;
using Pan.General.Member;

namespace Pan.Tests.Infrastructure;

/// <summary>A gRPC client of one server whose requests carry <c>User-Agent: userAgent</c> in place of grpc-dotnet's own.</summary>
public sealed class UserAgentChannel : IDisposable
{
    private readonly GrpcChannel channel;

    public UserAgentChannel(Uri address, string userAgent)
    {
        channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = new Handler(userAgent) });
        Client = new MemberServiceV2.MemberServiceV2Client(channel);
    }

    public MemberServiceV2.MemberServiceV2Client Client { get; }

    public void Dispose() => channel.Dispose();

    private sealed class Handler(string userAgent) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Remove("User-Agent");
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
