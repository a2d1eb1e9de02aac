package dev.concord.it;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module rules of docs/architecture.md, enforced on the production classes of every module: no package
 * cycles, each module depends only on the modules below it, and nothing below the service knows about HTTP.
 */
class ArchitectureTest {
    private static final String RECOVERY = "dev.concord.recovery..";
    private static final String COORDINATOR = "dev.concord.coordinator..";
    private static final String XA = "dev.concord.xa..";
    private static final String SERVICE = "dev.concord.service..";
    private static final String CLIENT = "dev.concord.client..";
    private static final String[] HTTP = {"jakarta.ws.rs..", "org.eclipse.jetty..", "org.glassfish.jersey..",
            "jakarta.servlet..", "com.sun.net.httpserver.."};

    private static JavaClasses classes;

    @BeforeAll
    static void importProductionClasses() {
        ImportOption productionOnly = location -> !location.contains("/test-classes/")
                && !location.contains("-tests.jar");
        classes = new ClassFileImporter().withImportOption(productionOnly).importPackages("dev.concord");
        for (String pkg : new String[] {"dev.concord.recovery", "dev.concord.coordinator", "dev.concord.service",
                "dev.concord.client"}) {
            assertTrue(classes.stream().anyMatch(c -> c.getPackageName().startsWith(pkg)),
                    "no production classes of " + pkg + " were imported");
        }
        assertTrue(classes.stream().noneMatch(c -> c.getPackageName().contains(".testing")),
                "test classes must not be checked as production code");
    }

    @Test
    void noPackageCyclesAnywhere() {
        slices().matching("dev.concord.(**)").should().beFreeOfCycles().check(classes);
    }

    @Test
    void recoveryDependsOnlyOnTheJdkAndJta() {
        // com.sun.nio.file is the JDK's own (module jdk.unsupported): ExtendedOpenOption.DIRECT for direct writes.
        ArchRule rule = noClasses().that().resideInAPackage(RECOVERY).should().dependOnClassesThat()
                .resideOutsideOfPackages(RECOVERY, "java..", "javax..", "jakarta.transaction..", "com.sun.nio.file..");
        rule.check(classes);
    }

    @Test
    void coordinatorDependsOnlyOnRecovery() {
        noClasses().that().resideInAPackage(COORDINATOR).should().dependOnClassesThat()
                .resideInAnyPackage(XA, SERVICE).check(classes);
        noClasses().that().resideInAPackage(COORDINATOR).should().dependOnClassesThat()
                .resideOutsideOfPackages(COORDINATOR, RECOVERY, "java..", "javax..", "jakarta.transaction..")
                .check(classes);
    }

    @Test
    void xaResourcesDoNotKnowTheService() {
        noClasses().that().resideInAPackage(XA).should().dependOnClassesThat().resideInAPackage(SERVICE)
                .allowEmptyShould(true).check(classes);
    }

    @Test
    void theClientNeedsNothingButTheJdkJtaAndJackson() {
        noClasses().that().resideInAPackage(CLIENT).should().dependOnClassesThat()
                .resideOutsideOfPackages(CLIENT, "java..", "javax.naming..", "javax.sql..", "javax.transaction.xa..",
                        "jakarta.transaction..", "com.fasterxml.jackson..")
                .check(classes);
        noClasses().that().resideInAnyPackage(RECOVERY, COORDINATOR, XA, SERVICE).should().dependOnClassesThat()
                .resideInAPackage(CLIENT).check(classes);
    }

    @Test
    void nothingBelowTheServiceKnowsHttp() {
        noClasses().that().resideInAnyPackage(RECOVERY, COORDINATOR, XA).should().dependOnClassesThat()
                .resideInAnyPackage(HTTP).check(classes);
    }
}
