using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MimeKit;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// A real SMTP server on loopback: Debian's aiosmtpd (python3-aiosmtpd, installed by tools/ensure-packages.sh) run as a
/// child process that writes every accepted message to a folder, parsed here with MimeKit. It can refuse the next
/// messages with a 4xx/5xx answer and can require a login (over plain text: loopback only).
/// </summary>
/// <example>
/// <code>
/// await using var smtp = await SmtpInbox.StartAsync();
/// await using var server = await PanServer.StartAsync(db, smtp.Settings());
/// … var mail = await smtp.WaitForMessageAsync("someone@example.com");
/// </code>
/// </example>
public sealed partial class SmtpInbox : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    // Why every DATA leaves one file, written after its answer is decided and renamed into place: a test that sees an
    // attempt sees it decided (the old shared counter was bumped before the refusal was chosen, so a test ending an
    // outage at "3 attempts" could let the third through). Why the control file is the test's alone: the server used to
    // decrement it in place, and that read-modify-write could overwrite a test's FailNext(0), prolonging an outage.
    private const string Script = """
        import glob, os, sys, time
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        folder, port = sys.argv[1], int(sys.argv[2])
        user = sys.argv[3].encode() if len(sys.argv) > 3 else None
        password = sys.argv[4].encode() if len(sys.argv) > 4 else None

        def place(name, content):
            open(name + '.tmp', 'wb').write(content)
            os.rename(name + '.tmp', name)

        class Handler:
            def __init__(self):
                self.count = 0

            async def handle_DATA(self, server, session, envelope):
                self.count += 1
                stem = os.path.join(folder, f'{time.time_ns():020d}-{self.count:05d}')
                header = ('X-Envelope-To: ' + ', '.join(envelope.rcpt_tos) + '\r\n').encode()
                control = os.path.join(folder, 'fail')
                if os.path.exists(control):
                    limit, code = open(control).read().split()
                    if len(glob.glob(os.path.join(folder, '*.refused'))) < int(limit):
                        place(stem + '.refused', header)
                        return f'{code} Simulated failure'
                data = envelope.original_content or envelope.content
                place(stem + '.eml', header + data)
                return '250 OK'

        def authenticate(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login == user and data.password == password
            return AuthResult(success=ok)

        kwargs = {}
        if user is not None:
            kwargs = dict(authenticator=authenticate, auth_required=True, auth_require_tls=False)
        controller = Controller(Handler(), hostname='127.0.0.1', port=port, **kwargs)
        controller.start()
        print('ready', flush=True)
        sys.stdin.read()
        controller.stop()
        """;

    private readonly Process process;
    private readonly string folder;
    private readonly Dictionary<string, MimeMessage> parsed = new(StringComparer.Ordinal);
    private readonly object gate = new();

    private SmtpInbox(Process process, string folder, int port, string? username, string? password)
    {
        this.process = process;
        this.folder = folder;
        Port = port;
        Username = username;
        Password = password;
    }

    public int Port { get; }

    public string? Username { get; }

    public string? Password { get; }

    /// <summary>DATA commands answered so far, refused ones included (a sender's attempts).</summary>
    public int Attempts => Directory.GetFiles(folder, "*.eml").Length + Refused.Count;

    /// <summary>Envelope recipients of every refused DATA command, oldest first.</summary>
    public IReadOnlyList<string> Refused =>
        [.. Directory.GetFiles(folder, "*.refused").Order(StringComparer.Ordinal).Select(f => File.ReadAllText(f).Trim())];

    /// <summary>DATA commands to <paramref name="to"/> (case-insensitive) that were refused.</summary>
    public int RefusedTo(string to) =>
        Refused.Count(r => r["X-Envelope-To: ".Length..].Split(", ").Contains(to, StringComparer.OrdinalIgnoreCase));

    /// <summary>Starts a server; with <paramref name="username"/> it accepts mail only after AUTH PLAIN/LOGIN with those credentials.</summary>
    public static async Task<SmtpInbox> StartAsync(string? username = null, string? password = null)
    {
        var folder = Directory.CreateTempSubdirectory("pan-smtp-").FullName;
        var script = Path.Combine(folder, "inbox.py");
        await File.WriteAllTextAsync(script, Script);
        var mail = Path.Combine(folder, "mail");
        Directory.CreateDirectory(mail);
        var port = FreePort();
        var start = new ProcessStartInfo(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-u", script, mail, port.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        if (username is not null)
        {
            start.ArgumentList.Add(username);
            start.ArgumentList.Add(password ?? string.Empty);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start.");
        var inbox = new SmtpInbox(process, mail, port, username, password);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line != "ready")
        {
            var error = await process.StandardError.ReadToEndAsync(timeout.Token);
            await inbox.DisposeAsync();
            throw new InvalidOperationException($"The SMTP inbox did not start (is python3-aiosmtpd installed? run tools/ensure-packages.sh): {error}");
        }

        return inbox;
    }

    /// <summary>Server settings that send mail here (smtp provider, no TLS, quick retries).</summary>
    public Dictionary<string, string?> Settings(int retries = 2) => new()
    {
        ["Pan:Email:Provider"] = "smtp",
        ["Pan:Email:Smtp:Host"] = "127.0.0.1",
        ["Pan:Email:Smtp:Port"] = Port.ToString(CultureInfo.InvariantCulture),
        ["Pan:Email:Smtp:Security"] = "None",
        ["Pan:Email:Smtp:Username"] = Username,
        ["Pan:Email:Smtp:Password"] = Password,
        ["Pan:Email:Smtp:From"] = "Pan Accounts <no-reply@pan.test>",
        ["Pan:Email:Smtp:Retries"] = retries.ToString(CultureInfo.InvariantCulture),
        ["Pan:Email:Smtp:RetryDelayMilliseconds"] = "20",
        ["Pan:Email:Smtp:TimeoutSeconds"] = "10",
    };

    /// <summary>
    /// Refuses the next <paramref name="count"/> messages with SMTP <paramref name="code"/> (451: try later; 550: refused);
    /// <c>FailNext(0)</c> ends an outage for every message answered after it returns.
    /// </summary>
    /// <remarks>The limit counts refusals so far plus <paramref name="count"/>: call it while no message is being answered for an exact count.</remarks>
    public void FailNext(int count, int code = 451)
    {
        // Why write and rename: the server may read the file at any moment; it must never see it half-written.
        var path = Path.Combine(folder, "fail");
        var limit = Refused.Count + count;
        File.WriteAllText(path + ".tmp", string.Create(CultureInfo.InvariantCulture, $"{limit} {code}"));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>Every accepted message, oldest first.</summary>
    public IReadOnlyList<MimeMessage> Messages
    {
        get
        {
            lock (gate)
            {
                foreach (var file in Directory.GetFiles(folder, "*.eml").Order(StringComparer.Ordinal))
                {
                    if (!parsed.ContainsKey(file))
                    {
                        parsed[file] = MimeMessage.Load(file);
                    }
                }

                return [.. parsed.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value)];
            }
        }
    }

    /// <summary>Messages whose envelope recipient is <paramref name="to"/> (case-insensitive), oldest first.</summary>
    public IReadOnlyList<MimeMessage> MessagesTo(string to) =>
        [.. Messages.Where(m => (m.Headers["X-Envelope-To"] ?? string.Empty).Split(", ").Contains(to, StringComparer.OrdinalIgnoreCase))];

    /// <summary>The <paramref name="number"/>-th message (1-based) to <paramref name="to"/>, waiting up to <see cref="Wait"/>.</summary>
    public async Task<MimeMessage> WaitForMessageAsync(string to, int number = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Wait);
        while (true)
        {
            var messages = MessagesTo(to);
            if (messages.Count >= number)
            {
                return messages[number - 1];
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No message #{number} to {to} within {timeout ?? Wait}; {Messages.Count} message(s) in all.");
            }

            await Task.Delay(25);
        }
    }

    /// <summary>The typed code of a Pan mail: "ABCDE-FGHJK" for email challenges, six digits for sign-in codes.</summary>
    public static string CodeOf(MimeMessage message)
    {
        var text = message.TextBody ?? string.Empty;
        var match = LongCode().Match(text);
        return match.Success ? match.Value : SixDigits().Match(text).Value;
    }

    /// <summary>The first link in the plain-text body to <paramref name="path"/> (e.g. /account/verify-email).</summary>
    public static Uri LinkOf(MimeMessage message, string path)
    {
        var match = Regex.Match(message.TextBody ?? string.Empty, @"https?://\S+" + Regex.Escape(path) + @"\?token=[A-Za-z0-9_\-%]+", RegexOptions.CultureInvariant);
        return match.Success ? new Uri(match.Value) : throw new Xunit.Sdk.XunitException($"No link to {path} in: {message.TextBody}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
        {
            // Ours to end: the child we started, by its handle.
            process.Kill();
        }

        process.Dispose();
        try
        {
            Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
        }
        catch (IOException)
        {
            // The temp folder is cleaned by the OS.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"\b[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}\b", RegexOptions.CultureInvariant)]
    private static partial Regex LongCode();

    [GeneratedRegex(@"\b\d{6}\b", RegexOptions.CultureInvariant)]
    private static partial Regex SixDigits();
}
