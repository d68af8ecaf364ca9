using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// A loopback TCP relay in front of a database server, to play an outage: <see cref="Cut"/> drops every relayed
/// connection and refuses new ones (as a database host that went away), <see cref="Restore"/> listens again on the
/// same port.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly IPEndPoint target;
    private readonly ConcurrentDictionary<Socket, byte> open = new();
    private TcpListener? listener;

    private TcpRelay(IPEndPoint target, int port)
    {
        this.target = target;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A relay to <paramref name="host"/>:<paramref name="port"/> on a free loopback port.</summary>
    public static TcpRelay Start(string host, int port)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var free = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var relay = new TcpRelay(new IPEndPoint(IPAddress.Parse(host), port), free);
        relay.Restore();
        return relay;
    }

    /// <summary>A PostgreSQL test database reached through a new relay.</summary>
    public static (TcpRelay Relay, ITestDatabase Database) InFrontOf(ITestDatabase database)
    {
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        var relay = Start(builder.Host!, builder.Port);
        builder.Host = "127.0.0.1";
        builder.Port = relay.Port;
        return (relay, new RelayedDatabase(database.Provider, builder.ConnectionString));
    }

    public void Restore()
    {
        listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _ = AcceptAsync(listener);
    }

    public void Cut()
    {
        listener?.Stop();
        listener = null;
        foreach (var socket in open.Keys)
        {
            open.TryRemove(socket, out _);
            socket.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        return ValueTask.CompletedTask;
    }

    private async Task AcceptAsync(TcpListener from)
    {
        try
        {
            while (true)
            {
                var client = await from.AcceptSocketAsync();
                var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await server.ConnectAsync(target);
                open[client] = 0;
                open[server] = 0;
                _ = PumpAsync(client, server);
                _ = PumpAsync(server, client);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The relay was cut.
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // One side was closed or the relay was cut.
        }
        finally
        {
            foreach (var socket in new[] { from, to })
            {
                open.TryRemove(socket, out _);
                socket.Dispose();
            }
        }
    }

    private sealed class RelayedDatabase(string provider, string connectionString) : ITestDatabase
    {
        public string Provider => provider;

        public string ConnectionString => connectionString;

        // Why: the database belongs to the fixture, which drops it.
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
