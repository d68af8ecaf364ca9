using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace Pan.Server.Hosting;

/// <summary>
/// The keys under <c>Pan:</c> that some options class binds. A key none binds (<c>Pan:Sms:Provder</c>) is refused at
/// start-up like an invalid setting, by the server and by every operator command, naming the key and the nearest known
/// one: unrefused, it would be ignored while the operator believed it took effect.
/// </summary>
/// <remarks>
/// Why a walk over the options classes and not the binder's <c>ErrorOnUnknownConfiguration</c>: several classes bind
/// one section or a section under another's (<c>Pan:Members</c> twice, <c>Pan:Sms</c> and <c>Pan:Sms:Limits</c>),
/// so a key one class does not know may be another's. A key is known when any class whose section it lies under binds
/// the rest of it: a property, a property of a nested class, any entry of a list or a dictionary.
/// </remarks>
public sealed class SettingKeys
{
    public const string Root = "Pan";

    private readonly List<(string Section, Type Type)> classes;

    private SettingKeys(List<(string Section, Type Type)> classes) => this.classes = classes;

    /// <summary>The options classes registered in <paramref name="services"/> that are bound from a section under <c>Pan:</c>.</summary>
    public static SettingKeys Of(IServiceCollection services) => new(services
        .Where(d => d.ServiceType.IsGenericType && d.ServiceType.GetGenericTypeDefinition() == typeof(IConfigureOptions<>))
        .Select(d => d.ServiceType.GetGenericArguments()[0])
        .Distinct()
        .Select(t => (Section: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string, Type: t))
        .Where(c => c.Section is not null && (c.Section == Root || c.Section.StartsWith(Root + ":", StringComparison.OrdinalIgnoreCase)))
        .Select(c => (c.Section!, c.Type))
        .ToList());

    /// <summary>
    /// Whether some options class binds <paramref name="key"/> (a full key, <c>Pan:Sms:Provider</c>), or with
    /// <paramref name="orSection"/> a section of settings (<c>Pan:Email:Limits</c>, a list).
    /// </summary>
    public bool IsKnown(string key, bool orSection = false)
    {
        var parts = key.Split(':');
        foreach (var (sectionPath, type) in classes)
        {
            var sectionParts = sectionPath.Split(':');
            if (parts.Length >= sectionParts.Length
                && sectionParts.Select((p, i) => string.Equals(p, parts[i], StringComparison.OrdinalIgnoreCase)).All(x => x)
                && Binds(type, parts.AsSpan(sectionParts.Length), orSection))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Refuses every key under <c>Pan:</c> in <paramref name="configuration"/> that no options class binds, with an
    /// <see cref="OptionsValidationException"/> listing each (names only, never a value).
    /// </summary>
    public void Check(IConfiguration configuration)
    {
        var failures = configuration.GetSection(Root).AsEnumerable()
            .Where(e => e.Value is not null && !IsKnown(e.Key, orSection: e.Value.Length == 0))
            .Select(e => e.Key)
            .Order(StringComparer.OrdinalIgnoreCase)
            .Select(key => Nearest(key) is { } nearest
                ? $"{key} is not a setting of Pan (did you mean {nearest}?)."
                : $"{key} is not a setting of Pan.")
            .ToList();
        if (failures.Count > 0)
        {
            throw new UnknownSettingException(failures);
        }
    }

    /// <summary>Whether binding <paramref name="type"/> reads the key <paramref name="rest"/> below it.</summary>
    private static bool Binds(Type type, ReadOnlySpan<string> rest, bool section)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsValue(type))
        {
            return rest.Length == 0;
        }

        if (rest.Length == 0)
        {
            return section;
        }

        if (ElementType(type) is { } element)
        {
            return Binds(element, rest[1..], section);
        }

        var name = rest[0];
        var property = Properties(type).FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
        return property is not null && Binds(property.PropertyType, rest[1..], section);
    }

    /// <summary>A type the binder reads from one value (a leaf of the configuration).</summary>
    private static bool IsValue(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Uri) || type == typeof(Guid)
        || type == typeof(DateOnly) || type == typeof(TimeOnly);

    /// <summary>The value type of a dictionary or the element type of a list or array (whose entries any key names), else null.</summary>
    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (!typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        var generic = new[] { type }.Concat(type.GetInterfaces()).Where(i => i.IsGenericType).ToList();
        var dictionary = generic.FirstOrDefault(i => i.GetGenericTypeDefinition() is var d && (d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>)));
        if (dictionary is not null)
        {
            return dictionary.GetGenericArguments()[1];
        }

        return generic.FirstOrDefault(i => i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
    }

    private static IEnumerable<PropertyInfo> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetMethod is not null && p.GetIndexParameters().Length == 0);

    /// <summary>Every key the options classes bind (an entry of a list or a dictionary as <c>&lt;name&gt;</c>), for suggestions.</summary>
    private IEnumerable<string> Keys() => classes.SelectMany(c => KeysOf(c.Type, c.Section, depth: 0));

    private static IEnumerable<string> KeysOf(Type type, string prefix, int depth)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsValue(type) || depth > 6)
        {
            return [prefix];
        }

        if (ElementType(type) is { } element)
        {
            return IsValue(Nullable.GetUnderlyingType(element) ?? element) ? [prefix] : KeysOf(element, prefix + ":<name>", depth + 1);
        }

        return Properties(type).SelectMany(p => KeysOf(p.PropertyType, prefix + ":" + p.Name, depth + 1));
    }

    /// <summary>The known key nearest <paramref name="key"/> in spelling, if one is near enough to be the one meant.</summary>
    private string? Nearest(string key)
    {
        var bound = Math.Max(2, key.Length / 4);
        return Keys().Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(k => (Key: k, Distance: Distance(k.ToUpperInvariant(), key.ToUpperInvariant())))
            .Where(k => k.Distance <= bound)
            .OrderBy(k => k.Distance)
            .Select(k => k.Key)
            .FirstOrDefault();
    }

    /// <summary>Levenshtein distance.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}

/// <summary>
/// Keys under <c>Pan:</c> that no options class binds. An <see cref="OptionsValidationException"/>, so whatever reports
/// an invalid setting reports these too (CliHost prints it, the server command exits 1).
/// </summary>
public sealed class UnknownSettingException(IEnumerable<string> failures)
    : OptionsValidationException(Options.DefaultName, typeof(SettingKeys), failures)
{
    /// <summary>The type and message only: the key is all there is to fix (see <see cref="SettingValueException"/>).</summary>
    public override string ToString() => $"{GetType().FullName}: {Message}";
}
