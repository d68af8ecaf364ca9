using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class Credentials : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "login_failures",
                columns: table => new
                {
                    uid = table.Column<long>(type: "INTEGER", nullable: false),
                    consecutive_failures = table.Column<int>(type: "INTEGER", nullable: false),
                    last_failure = table.Column<long>(type: "INTEGER", nullable: false),
                    locked_until = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_login_failures", x => x.uid);
                    table.ForeignKey(
                        name: "FK_login_failures_members_uid",
                        column: x => x.uid,
                        principalTable: "members",
                        principalColumn: "uid",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "member_credentials",
                columns: table => new
                {
                    uid = table.Column<long>(type: "INTEGER", nullable: false),
                    password_hash = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    password_changed = table.Column<long>(type: "INTEGER", nullable: true),
                    security_question = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    security_answer_hash = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    security_question_changed = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_member_credentials", x => x.uid);
                    table.ForeignKey(
                        name: "FK_member_credentials_members_uid",
                        column: x => x.uid,
                        principalTable: "members",
                        principalColumn: "uid",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "login_failures");

            migrationBuilder.DropTable(
                name: "member_credentials");
        }
    }
}
