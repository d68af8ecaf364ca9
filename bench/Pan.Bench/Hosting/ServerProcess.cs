using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Pan.Bench.Hosting;

/// <summary>
/// Pan as a child process (<c>dotnet Pan.Server.dll</c>) in the Production environment, configured through environment
/// variables: the run's database, free loopback ports, the webhook SMS provider pointed at the bench's listener,
/// generous SMS caps and captcha off. Its output goes to a log file.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>The Hashids salt the server runs with; the seeder encodes hash_uid with the same one.</summary>
    public const string HashidsSalt = "pan-bench-salt-2026";

    /// <summary>The key-encryption key of this bench process (Pan:Keys:EncryptionKey), random per process.</summary>
    private static readonly string KeyEncryptionKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private readonly Process process;
    private readonly Task logCopy;

    private readonly string logFile;

    private ServerProcess(Process process, Task logCopy, Uri grpc, string logFile)
    {
        this.process = process;
        this.logCopy = logCopy;
        this.logFile = logFile;
        GrpcUri = grpc;
    }

    /// <summary>The HTTP/2 cleartext listener (native gRPC).</summary>
    public Uri GrpcUri { get; }

    public int Id => process.Id;

    /// <summary>CPU time the server has used so far (user + system).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
    }

    /// <summary>Bytes of server output (its log) copied to the log file so far.</summary>
    /// <remarks>
    /// Why the bench counts it: a server that writes a line per request pays for it on every call (a routing log level
    /// once doubled the cost of the transport floor), and the size of its output is the first sign.
    /// </remarks>
    public long LogBytes => new FileInfo(logFile).Length;

    /// <summary>The server's peak resident set size in MB of 10^6 bytes (VmHWM from /proc), or null where /proc is missing.</summary>
    public double? PeakRssMB()
    {
        var status = $"/proc/{process.Id}/status";
        if (!File.Exists(status))
        {
            return null;
        }

        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var kib = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return kib is null ? null : long.Parse(kib, CultureInfo.InvariantCulture) * 1024 / 1e6;
    }

    /// <summary>Runs <c>Pan.Server migrate</c> against the database and waits for it to finish.</summary>
    public static async Task MigrateAsync(string dll, BenchDatabase database, Uri smsUrl, string logFile, IReadOnlyDictionary<string, string> extra)
    {
        var start = Start(dll, ["migrate"], Settings(database, smsUrl, 0, 0, extra), logFile, out var logCopy);
        await start.WaitForExitAsync();
        await logCopy;
        if (start.ExitCode != 0)
        {
            throw new InvalidOperationException($"Pan.Server migrate exited with {start.ExitCode}; see {logFile}.");
        }
    }

    /// <summary>Starts the server and waits until its gRPC health check answers SERVING.</summary>
    public static async Task<ServerProcess> StartAsync(
        string dll, BenchDatabase database, Uri smsUrl, string logFile, IReadOnlyDictionary<string, string> extra)
    {
        var (http, grpc) = (FreePort(), FreePort());
        var process = Start(dll, [], Settings(database, smsUrl, http, grpc, extra), logFile, out var logCopy);
        var server = new ServerProcess(process, logCopy, new Uri($"http://127.0.0.1:{grpc}"), logFile);
        try
        {
            await server.WaitUntilServingAsync(TimeSpan.FromSeconds(90));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        await logCopy;
        process.Dispose();
    }

    private static Dictionary<string, string> Settings(BenchDatabase database, Uri smsUrl, int http, int grpc, IReadOnlyDictionary<string, string> extra)
    {
        var settings = Required(database, smsUrl, http, grpc);
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static Dictionary<string, string> Required(BenchDatabase database, Uri smsUrl, int http, int grpc) => new()
    {
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{http}",
        ["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{grpc}",
        ["Pan__Database__Provider"] = database.Provider,
        ["ConnectionStrings__Pan"] = database.ConnectionString,
        ["Pan__Hashids__Salt"] = HashidsSalt,
        // Why: a Production server stores its signing keys wrapped and will not start without the key; the migration
        // run and the server of one run share this one (a fresh database per run holds no keys of an earlier run).
        ["Pan__Keys__EncryptionKey"] = KeyEncryptionKey,
        ["Pan__Sms__Provider"] = "webhook",
        ["Pan__Sms__Webhook__Url"] = smsUrl.ToString(),
        ["Pan__Sms__Limits__PerPhonePerHour"] = "1000000",
        ["Pan__Sms__Limits__PerPhonePerDay"] = "1000000",
        ["Pan__Sms__Limits__PerIpPerHour"] = "1000000",
        ["Pan__Sms__Limits__PerIpPerDay"] = "1000000",
        ["Pan__Sms__Limits__PerCountryPerHour"] = "100000000",
        ["Pan__Sms__Limits__PerCountryPerDay"] = "100000000",
        ["Pan__Captcha__Mode"] = "off",
        ["Pan__PhoneLookups__PerIpPerHour"] = "100000000",
        // Why: a Production server needs an email relay and a public base URL; no bench scenario sends mail, so the
        // relay is the discard port and the base URL the server's own listener.
        ["Pan__Email__Provider"] = "smtp",
        ["Pan__Email__Smtp__Host"] = "127.0.0.1",
        ["Pan__Email__Smtp__Port"] = "9",
        ["Pan__Email__Smtp__Security"] = "None",
        ["Pan__Email__Smtp__From"] = "Pan Bench <bench@pan.test>",
        ["Pan__Links__PublicBaseUrl"] = $"http://127.0.0.1:{http}",
        // Why: the glibc allocator settings README.md recommends for a server process ("Memory on Linux").
        ["MALLOC_ARENA_MAX"] = "2",
        ["MALLOC_MMAP_THRESHOLD_"] = "131072",
        ["MALLOC_TRIM_THRESHOLD_"] = "131072",
    };

    private static Process Start(string dll, string[] args, Dictionary<string, string> settings, string logFile, out Task logCopy)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            // Why: the server reads appsettings.json from its working directory (the content root).
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start dotnet.");
        logCopy = CopyLogAsync(process, logFile);
        return process;
    }

    private static async Task CopyLogAsync(Process process, string logFile)
    {
        await using var log = new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.Read);
        await Task.WhenAll(process.StandardOutput.BaseStream.CopyToAsync(log), process.StandardError.BaseStream.CopyToAsync(log));
    }

    private async Task WaitUntilServingAsync(TimeSpan timeout)
    {
        using var channel = GrpcChannel.ForAddress(GrpcUri);
        var health = new Health.HealthClient(channel);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Pan.Server exited with {process.ExitCode} while starting.");
            }

            try
            {
                var reply = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                if (reply.Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    return;
                }
            }
            catch (Grpc.Core.RpcException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Pan.Server did not report SERVING within {timeout}.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
