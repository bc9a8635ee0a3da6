# Prints what RubyGems and Bundler read from the files named on the command
# line, for vigil's differential tests.
#   ruby oracle.rb gemspec FILE...  -> "== FILE" then "NAME\tVERSION\tLICENSE,..." or "!error"
#   ruby oracle.rb lockfile FILE... -> "== FILE" then "NAME\tVERSION\tdirect|indirect"
#                                      per gem from a gem server, sorted, deduplicated
# Bundler's lockfile parser needs a Gemfile in the working directory.
require "rubygems"
mode = ARGV.shift
ARGV.each do |f|
  puts "== #{f}"
  if mode == "gemspec"
    spec = begin
      $stderr.reopen(File::NULL)
      Gem::Specification.load(f)
    rescue Exception
      nil
    end
    if spec.nil?
      puts "!error"
    else
      puts [spec.name, spec.version.to_s, spec.licenses.join(",")].join("\t")
    end
  else
    require "bundler"
    parser = Bundler::LockfileParser.new(File.read(f))
    direct = parser.dependencies.keys
    rows = parser.specs.select { |s| s.source.is_a?(Bundler::Source::Rubygems) }.map do |s|
      [s.name, s.version.to_s, direct.empty? || direct.include?(s.name) ? "direct" : "indirect"].join("\t")
    end
    puts rows.uniq.sort
  end
end
