namespace Pan.Server.Deletion;

/// <summary>
/// A feature that keeps personal data of members in its own tables (address books, passes, credentials, …) and must
/// erase it when they are deleted. Called inside the deletion's transaction, so the data goes with the member or not
/// at all. Register implementations as scoped <c>IMemberDataEraser</c> services.
/// </summary>
public interface IMemberDataEraser
{
    Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken);
}
