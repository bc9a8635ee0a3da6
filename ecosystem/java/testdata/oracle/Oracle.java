// Oracle prints what java.util.Properties and java.util.jar.Manifest read
// from each file named on the command line, for vigil's differential tests.
// Usage: java Oracle.java props:FILE|manifest:FILE...
// Output per file: "== FILE", then one "KEY\tVALUE" line per entry, sorted
// by key, each string written as the hex of its UTF-16 code units; or
// "!error" when the Java class rejects the file.
import java.io.FileInputStream;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.jar.Attributes;
import java.util.jar.Manifest;

public class Oracle {
    static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            b.append(String.format("%04x", (int) s.charAt(i)));
        }
        return b.toString();
    }

    public static void main(String[] args) throws Exception {
        StringBuilder out = new StringBuilder();
        for (String arg : args) {
            String mode = arg.substring(0, arg.indexOf(':'));
            String file = arg.substring(arg.indexOf(':') + 1);
            out.append("== ").append(file).append('\n');
            TreeMap<String, String> m = new TreeMap<>();
            try (InputStream in = new FileInputStream(file)) {
                if (mode.equals("props")) {
                    Properties p = new Properties();
                    p.load(in);
                    for (String k : p.stringPropertyNames()) {
                        m.put(k, p.getProperty(k));
                    }
                } else {
                    Attributes a = new Manifest(in).getMainAttributes();
                    for (Map.Entry<Object, Object> e : a.entrySet()) {
                        m.put(e.getKey().toString().toLowerCase(), (String) e.getValue());
                    }
                }
            } catch (Exception e) {
                out.append("!error\n");
                continue;
            }
            for (Map.Entry<String, String> e : m.entrySet()) {
                out.append(hex(e.getKey())).append('\t').append(hex(e.getValue())).append('\n');
            }
        }
        System.out.print(out);
    }
}
