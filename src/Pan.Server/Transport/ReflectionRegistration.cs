using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Reflection;
using Pan.Server.Errors;

namespace Pan.Server.Transport;

public static class ReflectionRegistration
{
    /// <summary>
    /// gRPC server reflection (v1 and v1alpha) that knows every file of the contract, including the ones without
    /// services (error vocabularies, pan.atom.member, pan.general.application), so tools such as grpcurl can
    /// describe every message and error enum.
    /// </summary>
    public static IServiceCollection AddPanReflection(this IServiceCollection services)
    {
        FileDescriptor[] extra =
        [
            Grpc.Health.V1.HealthReflection.Descriptor,
            Grpc.Reflection.V1Alpha.ReflectionReflection.Descriptor,
            Grpc.Reflection.V1.ReflectionReflection.Descriptor,
        ];
        var files = SeedEnums.Files.Concat(extra).ToList();
        var names = files.SelectMany(f => f.Services).Select(s => s.FullName).ToList();
        services.AddSingleton(_ => new PanReflectionV1Alpha(names, SymbolRegistry.FromFiles(files)));
        services.AddSingleton(_ => new PanReflectionV1(names, SymbolRegistry.FromFiles(files)));
        return services;
    }

    /// <summary>Maps both reflection services (what <c>MapGrpcReflectionService</c> maps, with Pan's guarded binding).</summary>
    public static IEndpointRouteBuilder MapPanReflection(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<PanReflectionV1Alpha>();
        endpoints.MapGrpcService<PanReflectionV1>();
        return endpoints;
    }
}

/// <summary>grpc-dotnet's v1alpha reflection service, bound through <see cref="GuardedBinding{TServiceBase}"/>.</summary>
[BindServiceMethod(typeof(GuardedBinding<Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionBase>), GuardedBinding.Method)]
public sealed class PanReflectionV1Alpha(IEnumerable<string> services, SymbolRegistry symbols) : ReflectionServiceImpl(services, symbols);

/// <summary>grpc-dotnet's v1 reflection service, bound through <see cref="GuardedBinding{TServiceBase}"/>.</summary>
[BindServiceMethod(typeof(GuardedBinding<Grpc.Reflection.V1.ServerReflection.ServerReflectionBase>), GuardedBinding.Method)]
public sealed class PanReflectionV1(IEnumerable<string> services, SymbolRegistry symbols) : ReflectionV1ServiceImpl(services, symbols);
