using Google.Protobuf.Reflection;
using Pan.Server.Errors;

namespace Pan.Tests.Infrastructure;

public static class Contract
{
    /// <summary>Every rpc of every service of the Pan contract.</summary>
    public static IEnumerable<MethodDescriptor> AllMethods() =>
        SeedEnums.Files.SelectMany(f => f.Services).SelectMany(s => s.Methods);
}
