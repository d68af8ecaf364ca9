using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;
using Pan.General.Member;

namespace Pan.Server.Avatars;

/// <summary>
/// Cuts off an avatar upload (<c>UpdateAvatar</c> over gRPC, gRPC-Web or HTTP/JSON) that has not been answered
/// <c>Pan:Avatars:UploadSeconds</c> after it began: its stream (HTTP/2) or connection (HTTP/1.1) is aborted.
/// </summary>
/// <remarks>
/// Why: Kestrel's only bound on a slow body is its minimum rate (240 bytes/s after a 5 s grace), at which a
/// <c>Pan:Avatars:MaxBytes</c> upload holds its request, and the memory it has received, for hours. Why wall-clock time
/// (not Pan's clock): it bounds what a client holds on the network. Why the whole request: the body comes first, and the
/// wait for a decode slot and the decode are bounded well within it (<c>Pan:Avatars:DecodeWaitMilliseconds</c>).
/// </remarks>
public sealed class AvatarUploadDeadline(RequestDelegate next, IOptions<AvatarOptions> options, ILogger<AvatarUploadDeadline> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method;
        if (method is null || method.Name != nameof(MemberServiceV2.MemberServiceV2Base.UpdateAvatar) || method.ServiceName != MemberServiceV2.Descriptor.FullName)
        {
            await next(context);
            return;
        }

        var seconds = options.Value.UploadSeconds;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        using var registration = deadline.Token.Register(() =>
        {
            logger.LogInformation("An avatar upload was not answered within {Seconds} s (a slow or stalled client); cut off", seconds);
            context.Abort();
        });
        await next(context);
    }
}
