using System.Reflection;
using Google.Protobuf;
using Grpc.Core;
using Pan.Server.Errors;

namespace Pan.Server.Transport;

/// <summary>
/// Binds a gRPC service so that a request message protobuf cannot decode (truncated, invalid UTF-8 in a string, a tag
/// with a wrong wire type) answers INVALID_ARGUMENT like any other bad input, instead of grpc-dotnet's UNKNOWN
/// "Exception was thrown by handler." and an Error log line. Every gRPC endpoint class Pan maps carries
/// <c>[BindServiceMethod(typeof(GuardedBinding&lt;XService.XServiceBase&gt;), GuardedBinding.Method)]</c>.
/// </summary>
/// <remarks>
/// Why a binding: grpc-dotnet decodes the request before any interceptor runs, so <see cref="ErrorInterceptor"/> never
/// sees the failure. grpc-dotnet finds a service's methods through the <see cref="BindServiceMethodAttribute"/> nearest
/// the endpoint class (the generated base class carries one naming the generated <c>BindService</c>). This one calls
/// that same generated method, but hands grpc-dotnet copies of its method descriptions whose request marshaller turns
/// protobuf's <see cref="InvalidProtocolBufferException"/> into an <see cref="RpcException"/>, which grpc-dotnet answers
/// as the status it carries and logs at Information. The second parameter of <c>BindService</c> is the generated base
/// class because grpc-dotnet looks the endpoint's handlers up as overrides of that class; JSON transcoding reads the
/// service's descriptor from the binding class, hence <see cref="Descriptor"/>.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000", Justification = "grpc-dotnet calls a public static BindService and reads a public static Descriptor on the binding type.")]
public static class GuardedBinding<TServiceBase>
    where TServiceBase : class
{
    private static readonly Type Generated = typeof(TServiceBase).GetCustomAttribute<BindServiceMethodAttribute>(inherit: false)?.BindType
        ?? throw new InvalidOperationException($"{typeof(TServiceBase)} is not a generated gRPC service base class.");

    private static readonly Action<ServiceBinderBase, TServiceBase?> Bind =
        (Generated.GetMethod(GuardedBinding.Method, BindingFlags.Public | BindingFlags.Static, [typeof(ServiceBinderBase), typeof(TServiceBase)])
            ?? throw new InvalidOperationException($"{Generated} has no {GuardedBinding.Method}(ServiceBinderBase, {typeof(TServiceBase).Name})."))
        .CreateDelegate<Action<ServiceBinderBase, TServiceBase?>>();

    /// <summary>The generated service's descriptor (read by JSON transcoding).</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor { get; } =
        Generated.GetProperty(nameof(Descriptor), BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as Google.Protobuf.Reflection.ServiceDescriptor
        ?? throw new InvalidOperationException($"{Generated} has no service descriptor.");

    /// <summary>Called by grpc-dotnet (and JSON transcoding) at start-up, with a null service.</summary>
    public static void BindService(ServiceBinderBase binder, TServiceBase? service) => Bind(new GuardingBinder(binder), service);

    private sealed class GuardingBinder(ServiceBinderBase inner) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Guard(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Guard(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Guard(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Guard(method), handler);

        private static Method<TRequest, TResponse> Guard<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class
            where TResponse : class =>
            new(method.Type, method.ServiceName, method.Name, Guard(method.RequestMarshaller), method.ResponseMarshaller);

        private static Marshaller<T> Guard<T>(Marshaller<T> marshaller)
        {
            var deserialize = marshaller.ContextualDeserializer;
            return new Marshaller<T>(marshaller.ContextualSerializer, context =>
            {
                try
                {
                    return deserialize(context);
                }
                catch (InvalidProtocolBufferException)
                {
                    throw PanError.Plain(StatusCode.InvalidArgument, "INVALID_ARGUMENT", GuardedBinding.Undecodable);
                }
            });
        }
    }
}

/// <summary>What the <see cref="GuardedBinding{TServiceBase}"/> attribute and answer need by name.</summary>
public static class GuardedBinding
{
    /// <summary>The bind method's name, for <see cref="BindServiceMethodAttribute"/>.</summary>
    public const string Method = "BindService";

    /// <summary>The message of the INVALID_ARGUMENT answered to a request message that cannot be decoded.</summary>
    public const string Undecodable = "The request message could not be decoded.";
}
