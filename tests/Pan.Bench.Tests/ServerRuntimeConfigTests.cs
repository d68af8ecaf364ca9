using System.Reflection;
using System.Text.Json;

namespace Pan.Bench.Tests;

/// <summary>The runtime settings the server is built with, which the bench measured (BENCHMARKS.md).</summary>
public sealed class ServerRuntimeConfigTests
{
    [Fact]
    public void TheServer_RunsWithWorkstationConcurrentGc_AndWithoutDynamicPgo()
    {
        var dll = typeof(ServerRuntimeConfigTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "PanServerDll").Value!;
        using var config = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(dll, ".runtimeconfig.json")));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.False(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.True(properties.GetProperty("System.GC.Concurrent").GetBoolean());
        Assert.False(properties.GetProperty("System.Runtime.TieredPGO").GetBoolean());
    }
}
