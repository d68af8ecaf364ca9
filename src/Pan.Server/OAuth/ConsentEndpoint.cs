using Pan.Oauth;

namespace Pan.Server.OAuth;

/// <summary><c>pan.oauth.ConsentProcess</c>: start, approve or reject a pending authorization request.</summary>
public sealed class ConsentEndpoint : ConsentProcess.ConsentProcessBase
{
}
