using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class SmsOutbox : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "sms_outbox",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    uid = table.Column<long>(type: "INTEGER", nullable: false),
                    delivery_attempt_id = table.Column<long>(type: "INTEGER", nullable: true),
                    payload = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    state = table.Column<int>(type: "INTEGER", nullable: false),
                    attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    created = table.Column<long>(type: "INTEGER", nullable: false),
                    expires = table.Column<long>(type: "INTEGER", nullable: false),
                    next_attempt = table.Column<long>(type: "INTEGER", nullable: false),
                    claimed_until = table.Column<long>(type: "INTEGER", nullable: true),
                    finished = table.Column<long>(type: "INTEGER", nullable: true),
                    last_error = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sms_outbox", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_sms_outbox_expires",
                table: "sms_outbox",
                column: "expires");

            migrationBuilder.CreateIndex(
                name: "ix_sms_outbox_state_next_attempt",
                table: "sms_outbox",
                columns: new[] { "state", "next_attempt" });

            migrationBuilder.CreateIndex(
                name: "ix_sms_outbox_uid_kind",
                table: "sms_outbox",
                columns: new[] { "uid", "kind" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "sms_outbox");
        }
    }
}
