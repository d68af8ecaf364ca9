using Pan.Lever.Member;

namespace Pan.Server.Lever;

/// <summary><c>pan.lever.member.MemberService</c>: internal calls from the family's own back ends.</summary>
public sealed class LeverMemberEndpoint : MemberService.MemberServiceBase
{
}
