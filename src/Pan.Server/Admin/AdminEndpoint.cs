using Pan.General.Admin;

namespace Pan.Server.Admin;

/// <summary><c>pan.general.admin.AdminService</c>: the operators' API.</summary>
public sealed class AdminEndpoint : AdminService.AdminServiceBase
{
}
