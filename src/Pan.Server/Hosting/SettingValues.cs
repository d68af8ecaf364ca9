using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Pan.Server.Hosting;

/// <summary>
/// Every options class is made through <see cref="GuardedOptionsFactory{TOptions}"/>, so a setting whose value cannot
/// be converted to its property's type (<c>Pan:Sms:Webhook:TimeoutSeconds=ten</c>) is refused like any other invalid
/// setting: an <see cref="OptionsValidationException"/> naming the setting's key and what it must be, never its value.
/// </summary>
/// <remarks>
/// Why the factory and not each <c>BindConfiguration</c>: every options instance is made there, whether the host checks
/// it at start-up (<c>ValidateOnStart</c>), the endpoints read it while they are mapped, or an operator command reads
/// it later; one registration covers every options class, present and future.
/// </remarks>
public static class SettingValues
{
    public static IServiceCollection AddSettingValueGuard(this IServiceCollection services)
    {
        services.Replace(ServiceDescriptor.Transient(typeof(IOptionsFactory<>), typeof(GuardedOptionsFactory<>)));
        return services;
    }

    /// <summary>
    /// The configuration binder's conversion failure: "Failed to convert configuration value '…' at '&lt;key&gt;' to type
    /// '&lt;type&gt;'." Why the end is anchored: the value comes first and may itself hold quotes or " at ".
    /// </summary>
    private static readonly Regex BinderFailure = new(
        "^Failed to convert configuration value .* at '(?<key>[^']+)' to type '(?<type>[^']+)'\\.$",
        RegexOptions.Singleline | RegexOptions.CultureInvariant);

    /// <summary>
    /// The refusal for <paramref name="ex"/> when it is the binder's conversion failure, else null. Why nothing of
    /// <paramref name="ex"/> is kept (no inner exception): its message and inner exceptions quote the value.
    /// </summary>
    internal static SettingValueException? Refusal(Exception ex, Type optionsType, string optionsName)
    {
        if (ex is not InvalidOperationException || ex.TargetSite?.DeclaringType?.FullName != "Microsoft.Extensions.Configuration.ConfigurationBinder"
            || BinderFailure.Match(ex.Message) is not { Success: true } match)
        {
            return null;
        }

        var key = match.Groups["key"].Value;
        return new SettingValueException(optionsName, optionsType, $"{key} must be {Expected(match.Groups["type"].Value, optionsType)}.");
    }

    /// <summary>What a value of the type the binder names must look like, in the operator's words.</summary>
    private static string Expected(string typeName, Type optionsType)
    {
        var type = Type.GetType(typeName) ?? optionsType.Assembly.GetType(typeName)
            ?? AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(typeName)).FirstOrDefault(t => t is not null);
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            null => $"a value of type {typeName}",
            { IsEnum: true } => "one of: " + string.Join(", ", Enum.GetNames(type)),
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(sbyte) => "a whole number",
            _ when type == typeof(uint) || type == typeof(ulong) || type == typeof(ushort) || type == typeof(byte) => "a whole number, 0 or more",
            _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number (such as 2.5)",
            _ when type == typeof(TimeSpan) => "a time span (such as 00:05:00)",
            _ when type == typeof(Uri) => "a URL",
            _ => $"a value of type {type.Name}",
        };
    }
}

/// <summary>
/// A setting whose value cannot be read as its type. An <see cref="OptionsValidationException"/>, so whatever reports
/// an invalid setting reports this one too (the host's start-up check gathers it with the others, CliHost prints it).
/// </summary>
public sealed class SettingValueException(string optionsName, Type optionsType, string failure)
    : OptionsValidationException(optionsName, optionsType, [failure])
{
    /// <summary>
    /// The type and message only. Why no stack trace: the log line or console that shows this is the operator's, and
    /// the setting's key is all there is to fix; a stack trace would only bury it.
    /// </summary>
    public override string ToString() => $"{GetType().FullName}: {Message}";
}

/// <summary>
/// The options factory with the binder's conversion failure turned into <see cref="SettingValueException"/>; otherwise
/// exactly <see cref="OptionsFactory{TOptions}"/> (the configure, post-configure and validate steps, in that order).
/// </summary>
public sealed class GuardedOptionsFactory<TOptions>(
    IEnumerable<IConfigureOptions<TOptions>> setups,
    IEnumerable<IPostConfigureOptions<TOptions>> postConfigures,
    IEnumerable<IValidateOptions<TOptions>> validations) : IOptionsFactory<TOptions>
    where TOptions : class
{
    private readonly OptionsFactory<TOptions> inner = new(setups, postConfigures, validations);

    public TOptions Create(string name)
    {
        try
        {
            return inner.Create(name);
        }
        catch (InvalidOperationException ex) when (SettingValues.Refusal(ex, typeof(TOptions), name) is { } refusal)
        {
            throw refusal;
        }
    }
}
