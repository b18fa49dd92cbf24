"""What pyspark (4.3) leaves to its JVM and this project needs from it: closing Hive's embedded
catalog database so that another process can open it.

Spark opens Hive's catalog, an embedded Derby database, the first time a session needs it, and
Derby keeps the database locked until Derby itself shuts down; stopping the session does not do
that. The code location runs its steps in one process (definitions.py), and dbt-spark opens the
same catalog from its own process between them, so each reader of the catalog here shuts Derby
down when it is done (`release_catalog`): Derby's documented shutdown URL, which reports success
as an SQLException, then its embedded driver registered again for the next session of this JVM.
The JVM is reached through `SparkContext._jvm`, pyspark's own handle on it.
"""

from py4j.protocol import Py4JJavaError
from pyspark import SparkContext

DERBY_SHUTDOWN_URL = "jdbc:derby:;shutdown=true"
DERBY_SHUT_DOWN_STATE = "XJ015"  # the SQLState of a clean shutdown of the whole system


def release_catalog() -> None:
    """Shut down Derby in this process's JVM (after the session is stopped)."""
    jvm = SparkContext._jvm
    if jvm is None:  # no JVM was started: nothing holds the catalog
        return
    try:
        jvm.java.sql.DriverManager.getConnection(DERBY_SHUTDOWN_URL)
    except Py4JJavaError as error:
        if error.java_exception.getSQLState() != DERBY_SHUT_DOWN_STATE:
            raise
    jvm.org.apache.derby.jdbc.EmbeddedDriver()  # registers itself with DriverManager again
