using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Pan.Server.Metrics;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Metrics;

/// <summary><c>Pan:Metrics:Url</c> is checked when the server starts; without it no metrics listener is opened.</summary>
public sealed class MetricsStartupTests : IAsyncDisposable
{
    private readonly SqliteTestDatabase database = new();

    [Fact]
    public async Task MetricsOff_OpensNoListener_AndNothingListensToPansMeter()
    {
        await using var app = Build([]);
        await app.StartAsync();
        Assert.Equal(2, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Count);
        Assert.False(app.Services.GetRequiredService<PanMetrics>().IsObserved);
        await app.StopAsync();
    }

    [Fact]
    public async Task MetricsOn_OpensItsListener_AndStopsItWithTheServer()
    {
        var port = MetricsFixture.FreePort();
        await using (var app = Build(new() { ["Pan:Metrics:Url"] = $"http://127.0.0.1:{port}" }))
        {
            await app.StartAsync();
            using var http = new HttpClient();
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(app.Services.GetRequiredService<PanMetrics>().IsObserved);
            await app.StopAsync();
        }

        using var client = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, port));
    }

    [Theory]
    [InlineData("https://127.0.0.1:9464")]
    [InlineData("http://127.0.0.1")]
    [InlineData("http://127.0.0.1:0")]
    [InlineData("http://127.0.0.1:9464/metrics")]
    [InlineData("127.0.0.1:9464")]
    [InlineData("http://metrics.example.internal:9464")]
    public async Task InvalidUrl_RefusesToStart_NamingTheSetting(string url)
    {
        var message = await StartupProbe.FailureAsync(() => Build(new() { ["Pan:Metrics:Url"] = url }));
        Assert.Contains("Pan:Metrics:Url must be empty", message, StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync() => database.DisposeAsync();

    private WebApplication Build(Dictionary<string, string?> settings) =>
        StartupProbe.Build("Production", StartupProbe.Production(database.ConnectionString), settings);
}
