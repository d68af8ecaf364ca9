using Grpc.Net.Client;
using Pan.General.Member;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// A gRPC client of one server whose requests carry <c>User-Agent: userAgent</c> in place of grpc-dotnet's own, and
/// <c>X-Forwarded-For: forwardedFor</c> when given (as a proxy in front of Pan would add it).
/// </summary>
public sealed class UserAgentChannel : IDisposable
{
    private readonly GrpcChannel channel;

    public UserAgentChannel(Uri address, string userAgent, string? forwardedFor = null)
    {
        channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = new Handler(userAgent, forwardedFor) });
        Client = new MemberServiceV2.MemberServiceV2Client(channel);
    }

    public MemberServiceV2.MemberServiceV2Client Client { get; }

    public void Dispose() => channel.Dispose();

    private sealed class Handler(string userAgent, string? forwardedFor) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Remove("User-Agent");
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
            if (forwardedFor is not null)
            {
                request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
