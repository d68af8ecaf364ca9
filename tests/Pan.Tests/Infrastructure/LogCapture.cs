using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// Collects every log line of one server, for tests that logs hold no secret: the category, the message, every
/// structured value of the state, every active scope (Pan's JSON console logs include scopes, e.g. ASP.NET Core's
/// RequestPath) and the exception.
/// </summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

    public void Dispose()
    {
    }

    private static void Append(StringBuilder line, object? state)
    {
        line.Append(" | ").Append(state);
        if (state is IEnumerable<KeyValuePair<string, object?>> values)
        {
            foreach (var (key, value) in values)
            {
                line.Append(' ').Append(key).Append('=').Append(value);
            }
        }
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner.scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = new StringBuilder().Append(category).Append(' ').Append(logLevel).Append(": ").Append(formatter(state, exception));
            Append(line, state);
            owner.scopes.ForEachScope((scope, l) => Append(l, scope), line);
            owner.Lines.Enqueue(line.Append(' ').Append(exception).ToString());
        }
    }
}
