using Pan.General.Member.Dangerous;

namespace Pan.Server.Deletion;

/// <summary><c>pan.general.member.dangerous.Command</c>: deleting a member or a whole account.</summary>
public sealed class CommandEndpoint : Command.CommandBase
{
}
