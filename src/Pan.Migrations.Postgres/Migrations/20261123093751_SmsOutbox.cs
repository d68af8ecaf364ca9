using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
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
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    delivery_attempt_id = table.Column<long>(type: "bigint", nullable: true),
                    payload = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    state = table.Column<int>(type: "integer", nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    expires = table.Column<long>(type: "bigint", nullable: false),
                    next_attempt = table.Column<long>(type: "bigint", nullable: false),
                    claimed_until = table.Column<long>(type: "bigint", nullable: true),
                    finished = table.Column<long>(type: "bigint", nullable: true),
                    last_error = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true)
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
