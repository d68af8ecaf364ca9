using Grpc.Core;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Pan.Server.Transport;
using GrpcHealth = Grpc.Health.V1.Health;

namespace Pan.Server.Health;

/// <summary>
/// <c>grpc.health.v1.Health</c>, answering from the health results grpc-dotnet publishes
/// (<see cref="HealthServiceImpl"/>, the cache <c>UseHealthChecksCache</c> turns on), bound through
/// <see cref="GuardedBinding{TServiceBase}"/> so a request it cannot decode answers INVALID_ARGUMENT like every Pan service.
/// </summary>
/// <remarks>
/// Why not <c>MapGrpcHealthChecksService</c>: the service it maps is an internal class, which cannot carry the binding.
/// With the cache on, that service passes Check and Watch to the same <see cref="HealthServiceImpl"/>, as this one does.
/// </remarks>
[BindServiceMethod(typeof(GuardedBinding<GrpcHealth.HealthBase>), GuardedBinding.Method)]
public sealed class GuardedHealthService(HealthServiceImpl published) : GrpcHealth.HealthBase
{
    public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context) => published.Check(request, context);

    public override Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context) =>
        published.Watch(request, responseStream, context);
}
