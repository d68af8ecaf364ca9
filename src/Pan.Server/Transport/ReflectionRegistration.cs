using Google.Protobuf.Reflection;
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
        services.AddGrpcReflection();
        FileDescriptor[] extra =
        [
            Grpc.Health.V1.HealthReflection.Descriptor,
            Grpc.Reflection.V1Alpha.ReflectionReflection.Descriptor,
            Grpc.Reflection.V1.ReflectionReflection.Descriptor,
        ];
        var files = SeedEnums.Files.Concat(extra).ToList();
        var names = files.SelectMany(f => f.Services).Select(s => s.FullName).ToList();
        services.AddSingleton(_ => new ReflectionServiceImpl(names, SymbolRegistry.FromFiles(files)));
        services.AddSingleton(_ => new Grpc.Reflection.ReflectionV1ServiceImpl(names, SymbolRegistry.FromFiles(files)));
        return services;
    }
}
