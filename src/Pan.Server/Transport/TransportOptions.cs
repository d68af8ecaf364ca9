using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Transport;

/// <summary><c>Pan:Transport:*</c>. Listening addresses are standard Kestrel settings (<c>Kestrel:Endpoints:Http|Grpc:Url</c>).</summary>
public sealed class TransportOptions
{
    public const string Section = "Pan:Transport";

    /// <summary>
    /// Extra path prefix under which gRPC-Web is also answered (default <c>/gapi</c>, as the original web clients
    /// call <c>/gapi/pan.general.member.MemberServiceV2/AccessToken</c>). Empty turns it off.
    /// </summary>
    [RegularExpression("^(|/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)$", ErrorMessage = "Pan:Transport:GrpcWebPrefix must be empty or a path like /gapi (no trailing slash).")]
    public string GrpcWebPrefix { get; set; } = "/gapi";
}
