using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary>
/// Delivers one text message. Only <see cref="SmsGate"/> calls providers: the gate has already checked the allow-list
/// and the caps, and logs the send.
/// </summary>
/// <remarks>
/// <para>A provider either returns (the vendor accepted the message) or throws
/// <see cref="Errors.DependencyUnavailableException"/> once it has given up (after its own retries), which reaches callers
/// as UNAVAILABLE. It must never log the text (it carries codes) nor the full number (<see cref="PhoneNumber.Suffix"/> only).</para>
/// <para>To add a vendor adapter (e.g. Twilio, Every8d): write a class implementing this interface in <c>Sms/</c>, bind its
/// settings under <c>Pan:Sms:&lt;Vendor&gt;</c> with <c>AddOptions&lt;T&gt;().BindConfiguration(…).ValidateDataAnnotations()
/// .ValidateOnStart()</c>, use <see cref="System.Net.Http.IHttpClientFactory"/> for HTTP, and register it in
/// <see cref="SmsServiceCollectionExtensions.AddPanSms"/> with <c>services.AddSmsProvider&lt;VendorSmsProvider&gt;("vendor")</c>.
/// Operators then select it with <c>Pan:Sms:Provider=vendor</c>; start-up refuses names that no adapter registered.
/// Test it against a loopback HTTP server speaking the vendor's protocol, as <c>SmsInbox</c> does for the webhook.</para>
/// </remarks>
public interface ISmsProvider
{
    Task SendAsync(PhoneNumber to, string text, CancellationToken cancellationToken);
}

/// <summary>The name under which a provider is registered (the value of <c>Pan:Sms:Provider</c> that selects it).</summary>
public sealed record SmsProviderName(string Name);
